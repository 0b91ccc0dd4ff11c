// The cgroup v2 backend on this hybrid host: inside a private mount namespace with cgroup2
// mounted on /sys/fs/cgroup, burstlet-runtime sees a unified host. The hierarchy has no
// controllers here (they are bound to v1), so this covers placement (clone3 with
// CLONE_INTO_CGROUP), the cgroup namespace view and cleanup, not the v2 limit files.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { join } from 'node:path';
import { burstletRuntimePath } from '../../workers/executor/native-runtime.ts';
import { ensureNativeBuilt, makeScratch, skipUnlessRoot, uniqueId, type Scratch } from './support/bundle.ts';

const skip = skipUnlessRoot();
const defaultNs = [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }];

describe('cgroup v2 backend (root)', { skip }, () => {
  let scratch: Scratch;
  before(() => {
    ensureNativeBuilt();
    scratch = makeScratch();
  });
  after(() => scratch?.cleanup());

  /** Runs a bundle on a unified view of the host; returns stdout and the leftover check. */
  function runOnV2(id: string, cgroupns: boolean): { stdout: string; leftover: string; status: number | null } {
    const bundle = scratch.bundle(id, {
      args: ['sh', '-c', 'grep "^0::" /proc/self/cgroup; ls /sys/fs/cgroup/cgroup.procs'],
      namespaces: cgroupns ? [...defaultNs, { type: 'cgroup' }] : defaultNs,
      extraMounts: [{ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro'] }],
    });
    const script = 'mount -t cgroup2 none /sys/fs/cgroup || exit 99; "$0" --root "$1" run --bundle "$2" "$3"; rc=$?; ' +
      'ls -d /sys/fs/cgroup/burstlet/"$3" 2>/dev/null >&2; exit $rc';
    const r = spawnSync('unshare', ['-m', 'sh', '-c', script, burstletRuntimePath, join(scratch.dir, 'state'), bundle, id],
      { encoding: 'utf8' });
    return { stdout: r.stdout, leftover: r.stderr, status: r.status };
  }

  test('the init is born in /burstlet/<id> and the cgroup is removed afterwards', () => {
    const id = uniqueId('v2');
    const r = runOnV2(id, false);
    assert.equal(r.status, 0, r.leftover);
    assert.equal(r.stdout, `0::/burstlet/${id}\n/sys/fs/cgroup/cgroup.procs\n`);
    assert.equal(r.leftover, '', 'no cgroup left behind');
  });

  test('with a cgroup namespace the container sees itself at the root', () => {
    const id = uniqueId('v2ns');
    const r = runOnV2(id, true);
    assert.equal(r.status, 0, r.leftover);
    assert.equal(r.stdout, '0::/\n/sys/fs/cgroup/cgroup.procs\n');
  });
});
