import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultSpec } from '../../../../workers/runtime/spec/oci.ts';
import { milliCpuToQuota, milliCpuToShares, withResources } from '../../../../workers/runtime/spec/resources.ts';

test('cpu conversions match the kubelet (shares ≥ 2, quota ≥ 1 ms)', () => {
  assert.equal(milliCpuToShares(0), 2);
  assert.equal(milliCpuToShares(250), 256);
  assert.equal(milliCpuToShares(1000), 1024);
  assert.equal(milliCpuToQuota(500), 50_000);
  assert.equal(milliCpuToQuota(1), 1_000);
});

test('withResources: limits → quota/memory/pids, requests → shares', () => {
  const spec = defaultSpec();
  withResources({ cpuMillis: 250 }, { cpuMillis: 1500, memoryBytes: 64 << 20, pids: 100 })(spec);
  assert.deepEqual(spec.linux.resources.cpu, { shares: 256, quota: 150_000, period: 100_000 });
  assert.deepEqual(spec.linux.resources.memory, { limit: 64 << 20, swap: 64 << 20 });
  assert.deepEqual(spec.linux.resources.pids, { limit: 100 });
});

test('withResources: a request defaults to the limit; best effort gets minimal shares and no limits', () => {
  const limited = defaultSpec();
  withResources(undefined, { cpuMillis: 500 })(limited);
  assert.equal(limited.linux.resources.cpu!.shares, 512);
  const best = defaultSpec();
  withResources(undefined, undefined)(best);
  assert.deepEqual(best.linux.resources.cpu, { shares: 2 });
  assert.equal(best.linux.resources.memory, undefined);
  assert.equal(best.linux.resources.pids, undefined);
});
