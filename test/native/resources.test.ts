// linux.resources on this host's cgroups: limits written, OOM kills reported, pids capped.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { join } from 'node:path';
import { NativeRuntime, isHybridCgroupHost } from '../../workers/executor/native-runtime.ts';
import { ensureNativeBuilt, makeScratch, skipUnlessRoot, uniqueId, type Scratch } from './support/bundle.ts';

const skip = skipUnlessRoot();
const MiB = 1024 * 1024;

/** Path of a cgroup interface file for the container, on v1 (per controller) or v2. */
function cgroupFile(cgroupsPath: string, controller: string, file: string): string {
  return isHybridCgroupHost() || existsSync(`/sys/fs/cgroup/${controller}`)
    ? `/sys/fs/cgroup/${controller}${cgroupsPath}/${file}`
    : `/sys/fs/cgroup${cgroupsPath}/${file}`;
}

describe('linux.resources (root)', { skip }, () => {
  let scratch: Scratch;
  let rt: NativeRuntime;

  before(() => {
    ensureNativeBuilt();
    scratch = makeScratch();
    rt = new NativeRuntime({ root: join(scratch.dir, 'state') });
  });
  after(() => scratch?.cleanup());

  test('memory, cpu and pids limits land in the cgroup files; delete removes the cgroup', async () => {
    const id = uniqueId('res');
    const cgroupsPath = `/burstlet-test/${id}`;
    const bundle = scratch.bundle(id, {
      args: ['true'], cgroupsPath,
      resources: { memory: { limit: 64 * MiB, swap: 64 * MiB }, cpu: { shares: 512, quota: 50000, period: 100000 },
        pids: { limit: 42 } },
    });
    await rt.create(id, bundle, { logPath: join(scratch.dir, `${id}.log`) });
    const v1 = existsSync('/sys/fs/cgroup/memory');
    const read = (c: string, f: string) => readFileSync(cgroupFile(cgroupsPath, c, f), 'utf8').trim();
    if (v1) {
      assert.equal(read('memory', 'memory.limit_in_bytes'), String(64 * MiB));
      assert.equal(read('cpu', 'cpu.shares'), '512');
      assert.equal(read('cpu', 'cpu.cfs_quota_us'), '50000');
      assert.equal(read('cpu', 'cpu.cfs_period_us'), '100000');
      assert.equal(read('pids', 'pids.max'), '42');
    } else {
      assert.equal(read('', 'memory.max'), String(64 * MiB));
      assert.equal(read('', 'cpu.max'), '50000 100000');
      assert.equal(read('', 'pids.max'), '42');
    }
    const st = await rt.state(id);
    const procs = readFileSync(cgroupFile(cgroupsPath, v1 ? 'pids' : '', 'cgroup.procs'), 'utf8');
    assert.ok(procs.split('\n').includes(String(st.pid)), 'the init sits in the cgroup');
    await rt.delete(id, { force: true });
    assert.equal(existsSync(cgroupFile(cgroupsPath, v1 ? 'pids' : '', '')), false, 'cgroup removed');
  });

  test('a process allocating past the memory limit is OOM-killed and reported so', async () => {
    const id = uniqueId('oom');
    // tmpfs pages are charged to the writer's cgroup and cannot be reclaimed without swap.
    const bundle = scratch.bundle(id, {
      args: ['dd', 'if=/dev/zero', 'of=/dev/shm/fill', 'bs=1M', 'count=60'],
      resources: { memory: { limit: 16 * MiB, swap: 16 * MiB } },
    });
    await rt.create(id, bundle, { logPath: join(scratch.dir, `${id}.log`) });
    await rt.start(id);
    const st = await rt.waitForExit(id, { timeoutMs: 60_000 });
    await rt.delete(id);
    assert.equal(st.exit?.oomKilled, true, JSON.stringify(st));
    assert.equal(st.exit?.signal, 9);
    assert.equal(st.exit?.exitCode, 137);
  });

  test('a container within its memory limit is not reported OOM-killed', async () => {
    const id = uniqueId('nooom');
    const bundle = scratch.bundle(id, {
      args: ['dd', 'if=/dev/zero', 'of=/dev/shm/fill', 'bs=1M', 'count=4'],
      resources: { memory: { limit: 64 * MiB, swap: 64 * MiB } },
    });
    await rt.create(id, bundle, { logPath: join(scratch.dir, `${id}.log`) });
    await rt.start(id);
    const st = await rt.waitForExit(id, { timeoutMs: 60_000 });
    await rt.delete(id);
    assert.deepEqual([st.exit?.exitCode, st.exit?.oomKilled], [0, false]);
  });

  // busybox sh aborts with "can't fork" once fork fails; with room to spare it finishes.
  const bomb = 'i=0; while [ $i -lt 40 ]; do sleep 30 & i=$((i+1)); done; echo all-started';
  for (const [limit, stopped] of [[10, true], [100, false]] as const) {
    test(`a fork bomb ${stopped ? 'stops at' : 'runs under'} a pids limit of ${limit}`, async () => {
      const id = uniqueId('pids');
      const bundle = scratch.bundle(id, { args: ['sh', '-c', bomb], resources: { pids: { limit } } });
      const r = await rt.run(id, bundle);
      if (stopped) {
        assert.match(r.stderr, /can't fork/);
        assert.notEqual(r.exitCode, 0);
        assert.doesNotMatch(r.stdout, /all-started/);
      } else {
        assert.equal(r.exitCode, 0, r.stderr);
        assert.match(r.stdout, /all-started/);
      }
    });
  }
});
