// The acceptance comparison: one busybox bundle under burstlet-runtime, runc and crun must
// print the same id, hostname, capability lines, /dev listing and /proc/1/cmdline.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { join } from 'node:path';
import { NativeRuntime, isHybridCgroupHost, type RuntimeName } from '../../workers/executor/native-runtime.ts';
import { ensureNativeBuilt, makeScratch, skipUnlessRoot, uniqueId, type Scratch } from './support/bundle.ts';

const skip = skipUnlessRoot();
const script = [
  'id', 'echo --', 'hostname', 'echo --', 'grep ^Cap /proc/self/status', 'echo --', 'ls /dev', 'echo --',
  // not last, so sh does not exec tr in its place and pid 1 stays the shell
  "tr '\\0' ' ' < /proc/1/cmdline", 'echo',
].join('; ');

describe('same bundle under burstlet, runc and crun (root)', { skip }, () => {
  let scratch: Scratch;
  const sections: Partial<Record<RuntimeName, string[]>> = {};

  before(async () => {
    ensureNativeBuilt();
    scratch = makeScratch();
    const bundle = scratch.bundle('b', { args: ['sh', '-c', script] });
    if (isHybridCgroupHost()) {
      console.log('# crun runs in a private mount namespace without /sys/fs/cgroup/unified (hybrid host)');
    }
    for (const runtime of ['burstlet', 'runc', 'crun'] as const) {
      const rt = new NativeRuntime({ runtime, root: join(scratch.dir, `state-${runtime}`) });
      const r = await rt.run(uniqueId('cmp'), bundle);
      assert.equal(r.exitCode, 0, `${runtime} run failed: ${r.stderr}`);
      sections[runtime] = r.stdout.split('--\n').map((s) => s.trim());
    }
  });
  after(() => scratch?.cleanup());

  const names = ['id', 'hostname', 'capability lines', 'ls /dev', '/proc/1/cmdline'];
  names.forEach((name, i) => {
    test(`${name}: burstlet prints what runc prints`, () => {
      assert.equal(sections.burstlet?.[i], sections.runc?.[i]);
      assert.ok(sections.runc?.[i], 'runc printed something');
    });
    test(`${name}: crun prints what runc prints`, () => {
      let crun = sections.crun?.[i];
      // crun 1.8 adds /dev/core -> /proc/kcore even when the kernel has no /proc/kcore.
      if (name === 'ls /dev') crun = crun?.split('\n').filter((l) => l !== 'core').join('\n');
      assert.equal(crun, sections.runc?.[i]);
    });
  });

  test('the sections hold the expected values', () => {
    const [id, hostname, caps, dev, cmdline] = sections.burstlet ?? [];
    assert.match(id, /^uid=0 gid=0/);
    assert.equal(hostname, 'runc');
    assert.match(caps, /CapBnd:\s+0000000020000420/);
    assert.deepEqual(dev.split('\n').filter((l) => ['null', 'zero', 'pts', 'shm', 'ptmx', 'stdout'].includes(l)).sort(),
      ['null', 'ptmx', 'pts', 'shm', 'stdout', 'zero']);
    assert.equal(cmdline, `sh -c ${script}`.trim());
  });
});
