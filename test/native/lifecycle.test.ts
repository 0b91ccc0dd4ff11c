// One suite for every runtime the driver supports: create/start/state/exec/kill/delete of
// the same bundle under burstlet-runtime, runc and crun.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NativeRuntime, type RuntimeName } from '../../workers/executor/native-runtime.ts';
import { BurstletError } from '../../src/errors.ts';
import { ensureNativeBuilt, makeScratch, skipUnlessRoot, uniqueId, type Scratch } from './support/bundle.ts';

const skip = skipUnlessRoot();
// pid 1 ignores SIGTERM until the trap is set, so tests wait for "started" before killing
const serve = 'trap "echo stopping; exit 3" TERM; echo started; while :; do sleep 0.05; done';

/** Polls the (CRI or raw) log until it contains `text`. */
async function logged(path: string, text: string): Promise<void> {
  for (let i = 0; i < 1200 && !(existsSync(path) && readFileSync(path, 'utf8').includes(text)); i++) {
    await new Promise((r) => setTimeout(r, 25));
  }
}

for (const runtime of ['burstlet', 'runc', 'crun'] as const satisfies RuntimeName[]) {
  describe(`lifecycle under ${runtime} (root)`, { skip }, () => {
    let scratch: Scratch;
    let rt: NativeRuntime;
    let bundle: string;

    before(() => {
      ensureNativeBuilt();
      scratch = makeScratch();
      rt = new NativeRuntime({ runtime, root: join(scratch.dir, 'state') });
      bundle = scratch.bundle('b', { args: ['sh', '-c', serve], hostname: 'lifecycle' });
    });
    after(() => scratch?.cleanup());

    test('create → created, start → running, exec, kill → stopped, delete → gone', async () => {
      const id = uniqueId(runtime);
      const logPath = join(scratch.dir, `${id}.log`);
      await rt.create(id, bundle, { logPath });
      try {
        const created = await rt.state(id);
        assert.equal(created.status, 'created');
        assert.ok(created.pid > 0);
        await rt.start(id);
        assert.equal((await rt.state(id)).status, 'running');
        // absolute path: crun's --env replaces the process env (PATH included), runc's adds to it
        const ex = await rt.exec(id, ['/bin/sh', '-c', 'hostname; id -u; echo $FOO'], { env: ['FOO=bar'] });
        assert.deepEqual([ex.exitCode, ex.stdout.split('\n').slice(0, 3)], [0, ['lifecycle', '0', 'bar']], ex.stderr);
        const cg = await rt.exec(id, ['/bin/sh', '-c', 'grep -E ":(memory|pids):" /proc/1/cgroup; echo; grep -E ":(memory|pids):" /proc/self/cgroup']);
        const [initCg, execCg] = cg.stdout.split('\n\n');
        assert.equal(execCg.trim(), initCg.trim(), 'exec joins the container cgroup');
        assert.match(initCg, new RegExp(id));
        const asUser = await rt.exec(id, ['id'], { user: '1000:1000' });
        assert.match(asUser.stdout, /uid=1000 gid=1000/);
        await logged(logPath, 'started');
        await rt.kill(id, 'SIGTERM');
        const stopped = await rt.waitForExit(id, { timeoutMs: 30_000 });
        assert.equal(stopped.status, 'stopped');
        if (runtime === 'burstlet') assert.deepEqual([stopped.exit?.exitCode, stopped.exit?.signal], [3, 0]);
      } finally {
        await rt.delete(id, { force: true });
      }
      await assert.rejects(rt.state(id), (e: unknown) => e instanceof BurstletError && e.code === 'NOT_FOUND');
    });

    test('start of an unknown container fails with the runtime message', async () => {
      await assert.rejects(rt.start(uniqueId('missing')), (e: unknown) => e instanceof BurstletError && e.message.length > 0);
    });

    test('delete --force of a running container stops and removes it', async () => {
      const id = uniqueId(runtime);
      await rt.create(id, bundle, { logPath: join(scratch.dir, `${id}.log`) });
      await rt.start(id);
      await rt.delete(id, { force: true });
      await assert.rejects(rt.state(id), (e: unknown) => e instanceof BurstletError && e.code === 'NOT_FOUND');
    });

    test('a process exiting with a code leaves the container stopped', async () => {
      const id = uniqueId(runtime);
      const b = scratch.bundle(`exit-${id}`, { args: ['sh', '-c', 'exit 7'] });
      await rt.create(id, b, { logPath: join(scratch.dir, `${id}.log`) });
      await rt.start(id);
      const st = await rt.waitForExit(id, { timeoutMs: 30_000 });
      if (runtime === 'burstlet') assert.equal(st.exit?.exitCode, 7);
      await rt.delete(id);
    });
  });
}
