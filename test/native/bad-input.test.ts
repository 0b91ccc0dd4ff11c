// Bad bundles are refused before anything is created, naming the field, and a failed
// create leaves nothing behind (state dir, cgroup).
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { join } from 'node:path';
import { NativeRuntime } from '../../workers/executor/native-runtime.ts';
import { BurstletError } from '../../src/errors.ts';
import { ensureNativeBuilt, makeScratch, skipUnlessRoot, specFor, uniqueId, type Scratch } from './support/bundle.ts';

const skip = skipUnlessRoot();

/** Applies `edit` to a copy of the default spec. */
function edited(edit: (spec: any) => void): unknown {
  const spec = structuredClone(specFor({ args: ['true'] })) as any;
  edit(spec);
  return spec;
}

const cases: Array<[string, unknown, RegExp]> = [
  ['wrong-typed uid', edited((s) => { s.process.user.uid = '0'; }), /process\.user\.uid: expected number, got string/],
  ['missing args', edited((s) => { delete s.process.args; }), /process\.args: missing/],
  ['missing root', edited((s) => { delete s.root; }), /root: missing/],
  ['unknown capability', edited((s) => { s.process.capabilities.bounding = ['CAP_NOPE']; }),
    /process\.capabilities\.bounding: unknown capability `CAP_NOPE`/],
  ['bad mount entry', edited((s) => { s.mounts[0].destination = 'proc'; }), /mounts\[0\]\.destination: must be absolute/],
  ['unknown namespace', edited((s) => { s.linux.namespaces.push({ type: 'time-travel' }); }),
    /linux\.namespaces\[5\]\.type: unknown namespace type/],
  ['wrong-typed memory limit', edited((s) => { s.linux.resources.memory = { limit: '1G' }; }),
    /linux\.resources\.memory\.limit: expected number/],
  ['bad device rule', edited((s) => { s.linux.resources.devices = [{ allow: false, type: 'x' }]; }),
    /linux\.resources\.devices\[0\]\.type: expected "a", "c" or "b", got `x`/],
  ['not JSON', '{"ociVersion": "1.0.2", ', /invalid JSON at offset/],
  ['missing executable', edited((s) => { s.process.args = ['no-such-binary']; }), /executable file not found/],
  ['missing join path', edited((s) => { s.linux.namespaces[1] = { type: 'network', path: '/proc/999999999/ns/net' }; }),
    /open namespace `\/proc\/999999999\/ns\/net`: No such file or directory/],
];

describe('bad input (root)', { skip }, () => {
  let scratch: Scratch;
  let rt: NativeRuntime;
  let bundle: string;

  before(() => {
    ensureNativeBuilt();
    scratch = makeScratch();
    rt = new NativeRuntime({ root: join(scratch.dir, 'state') });
    bundle = scratch.bundle('b', { args: ['true'] });
  });
  after(() => scratch?.cleanup());

  for (const [name, config, message] of cases) {
    test(`${name}: create fails naming the problem and leaves nothing behind`, async () => {
      const id = uniqueId('bad');
      scratch.writeConfig(bundle, config);
      await assert.rejects(rt.create(id, bundle, { logPath: join(scratch.dir, `${id}.log`) }), (e: unknown) => {
        assert.ok(e instanceof BurstletError);
        assert.equal(e.code, 'CONTAINER_CREATE');
        assert.match(e.message, message);
        return true;
      });
      assert.equal(existsSync(join(rt.root, id)), false, 'no state dir');
      for (const ctl of ['memory', 'pids', 'cpu']) {
        assert.equal(existsSync(`/sys/fs/cgroup/${ctl}/burstlet/${id}`), false, `no ${ctl} cgroup`);
      }
    });
  }

  test('a second create with the same id is refused and the first container is untouched', async () => {
    const id = uniqueId('dup');
    scratch.writeConfig(bundle, specFor({ args: ['sleep', '600'] }));
    await rt.create(id, bundle, { logPath: join(scratch.dir, `${id}.log`) });
    await assert.rejects(rt.create(id, bundle, { logPath: join(scratch.dir, `${id}.log`) }), /already exists/);
    assert.equal((await rt.state(id)).status, 'created');
    await rt.delete(id, { force: true });
    assert.deepEqual(readdirSync(rt.root).filter((n) => n === id), []);
  });
});
