// A pod's cgroup goes in every hierarchy, with the children a runtime left in it; a cgroup
// still holding a process stays (and goes once the process is gone).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cgroupMounts, podCgroup, podCgroupExists, removePodCgroups } from '../../../workers/runtime/cgroups.ts';

const root = process.getuid?.() === 0;

test('removePodCgroups: nested children in several hierarchies go; a busy one stays until its process is gone', { skip: !root && 'needs root' }, async () => {
  const uid = `cgtest-${process.pid}-${Date.now()}`;
  const mounts = (await cgroupMounts()).filter((m) => /\/(memory|pids|unified)$/.test(m));
  assert.ok(mounts.length >= 2, `test needs at least two cgroup hierarchies, found ${mounts.join(', ')}`);
  const [busyMount] = mounts;
  for (const m of mounts) mkdirSync(join(m, podCgroup(uid), 'main-0', 'nested'), { recursive: true });
  mkdirSync(join(busyMount, podCgroup(uid), 'busy'), { recursive: true });
  const sleeper = spawn('sleep', ['600'], { stdio: 'ignore' });
  try {
    writeFileSync(join(busyMount, podCgroup(uid), 'busy', 'cgroup.procs'), String(sleeper.pid));
    const removal = removePodCgroups(uid); // retries for about a second
    await removal;
    for (const m of mounts.slice(1)) assert.equal(existsSync(join(m, podCgroup(uid))), false, `${m}: the pod's cgroup is gone`);
    assert.equal(existsSync(join(busyMount, podCgroup(uid), 'busy')), true, 'the cgroup holding a process stays');
    assert.equal(existsSync(join(busyMount, podCgroup(uid), 'main-0')), false, 'its empty siblings went');
    assert.equal(await podCgroupExists(uid), true);
  } finally {
    sleeper.kill('SIGKILL');
    await new Promise((r) => sleeper.once('exit', r));
  }
  await removePodCgroups(uid);
  assert.equal(await podCgroupExists(uid), false);
});
