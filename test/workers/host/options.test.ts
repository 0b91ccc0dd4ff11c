import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HOST_DEFAULTS, hostOptions, hostOptionsFromSettings } from '../../../workers/host/options.ts';

const settings = {
  redis: 'redis://127.0.0.1:6379', keyPrefix: 'bl', pool: 'spot', runtime: 'crun', stateDir: '/var/lib/x',
  maxPods: 7, labels: { zone: 'a' }, heartbeatInterval: 2000, shutdown: 'finish' as const,
};

test('hostOptionsFromSettings: CLI settings become host options; unset cpu/memory stay detected', () => {
  const o = hostOptionsFromSettings(settings, 'w-1');
  assert.equal(o.redisUrl, 'redis://127.0.0.1:6379');
  assert.equal(o.workerId, 'w-1');
  assert.equal(o.pool, 'spot');
  assert.deepEqual(o.allocatable, { pods: 7 });
  assert.equal(o.heartbeatIntervalMs, 2000);
  assert.equal(o.shutdown, 'finish');
  assert.equal(o.lockDurationMs, HOST_DEFAULTS.lockDurationMs);
  const withCpu = hostOptionsFromSettings({ ...settings, cpu: 1500, memory: 1 << 30 }, 'w-1');
  assert.deepEqual(withCpu.allocatable, { pods: 7, cpuMillis: 1500, memoryBytes: 1 << 30 });
});

test('hostOptions: a lock too short to renew is refused', () => {
  assert.throws(() => hostOptions({ redisUrl: 'redis://x', workerId: 'w', stateDir: '/tmp', lockDurationMs: 100 }), /lockDurationMs/);
});
