// Isolation inside a burstlet container with the default (runc spec) configuration.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NativeRuntime } from '../../workers/executor/native-runtime.ts';
import { ensureNativeBuilt, makeScratch, skipUnlessRoot, uniqueId, type Scratch } from './support/bundle.ts';

const skip = skipUnlessRoot();

// Each probe prints "<name>=<value>" so one container run answers every question.
const probes = [
  'echo "pids=$(ls /proc | grep -E "^[0-9]+$" | tr "\\n" " ")"',
  'if echo 1 > /proc/sys/vm/overcommit_memory 2>/dev/null; then echo procsys=writable; else echo procsys=readonly; fi',
  'if mount -t tmpfs x /mnt 2>/tmp/mount.err; then echo mount=ok; else echo "mount=$(cat /tmp/mount.err)"; fi',
  'echo "nnp=$(grep ^NoNewPrivs /proc/self/status | tr -d " \\t")"',
  'echo "netdevs=$(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " " | tr "\\n" " ")"',
  'echo "timer_list=$(cat /proc/timer_list | wc -c)"',
  'echo "keys=$(cat /proc/keys | wc -c)"',
  'echo "firmware=$(ls -A /sys/firmware | wc -l)"',
  'if touch /rootfile 2>/dev/null; then echo root=writable; else echo root=readonly; fi',
];

describe('isolation in a burstlet container (root)', { skip }, () => {
  let scratch: Scratch;
  const seen = new Map<string, string>();

  before(async () => {
    ensureNativeBuilt();
    scratch = makeScratch();
    const bundle = scratch.bundle('b', { args: ['sh', '-c', probes.join('; ')], readonlyRoot: true,
      extraMounts: [{ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev'] }] });
    const rt = new NativeRuntime({ root: join(scratch.dir, 'state') });
    const r = await rt.run(uniqueId('iso'), bundle);
    assert.equal(r.exitCode, 0, r.stderr);
    for (const line of r.stdout.split('\n')) {
      const eq = line.indexOf('=');
      if (eq > 0) seen.set(line.slice(0, eq), line.slice(eq + 1).trim());
    }
  });
  after(() => scratch?.cleanup());

  test('only the container processes are visible', () => {
    const pids = (seen.get('pids') ?? '').split(' ').filter(Boolean).map(Number);
    assert.ok(pids.includes(1), `pid 1 visible: ${pids}`);
    // the probe pipeline itself (subshell, ls, grep, tr) accounts for the other pids
    assert.ok(pids.length < 10 && pids.every((p) => p < 20), `only a few small pids: ${pids}`);
  });
  test('/proc/sys is read-only', () => assert.equal(seen.get('procsys'), 'readonly'));
  test('mount fails with EPERM under the default capabilities', () => {
    assert.match(seen.get('mount') ?? '', /permission denied|not permitted/i);
  });
  test('no_new_privs is set', () => assert.equal(seen.get('nnp'), 'NoNewPrivs:1'));
  test('only loopback exists in the new network namespace', () => assert.equal(seen.get('netdevs'), 'lo'));
  test('masked paths read empty (they are not empty on the host)', () => {
    for (const f of ['/proc/keys', '/proc/timer_list']) assert.ok(readFileSync(f).length > 0, `${f} on the host`);
    assert.ok(readdirSync('/sys/firmware').length > 0, '/sys/firmware on the host');
    assert.equal(seen.get('timer_list'), '0');
    assert.equal(seen.get('keys'), '0');
    assert.equal(seen.get('firmware'), '0');
  });
  test('root.readonly makes / read-only', () => assert.equal(seen.get('root'), 'readonly'));
});
