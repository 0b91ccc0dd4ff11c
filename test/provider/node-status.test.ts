import assert from 'node:assert/strict';
import { test } from 'node:test';
import { capacityOf, nodeConditions, parseTaint, type NodeSettings } from '../../provider/node-status.ts';
import type { WorkerInfo } from '../../src/schema/worker.ts';

const worker = (id: string, pressure?: WorkerInfo['pressure']): WorkerInfo => ({
  id, pool: 'default', hostname: id, os: 'linux', arch: 'amd64', version: '0', startedAt: 0, heartbeatAt: 0, pressure,
  allocatable: { cpuMillis: 1500, memoryBytes: 2 ** 30, pods: 10, ephemeralStorageBytes: 0 },
  used: { cpuMillis: 0, memoryBytes: 0, pods: 0, ephemeralStorageBytes: 0 },
});
const settings: NodeSettings = { nodeName: 'n', taint: 'k=v:NoSchedule', version: '0', address: '1.2.3.4', port: 1, burst: { cpuMillis: 500, memoryBytes: 0, pods: 5 } };
const cond = (cs: any[], type: string) => cs.find((c) => c.type === type);

test('node capacity: live workers summed plus burst headroom, as Kubernetes quantities', () => {
  assert.deepEqual(capacityOf(settings, [worker('a'), worker('b')]), { cpu: '3500m', memory: '2Gi', pods: '25', 'ephemeral-storage': '0' });
  assert.deepEqual(capacityOf(settings, []), { cpu: '500m', memory: '0', pods: '5', 'ephemeral-storage': '0' });
});

test('node conditions: Ready iff a live worker; pressure only when every live worker reports it; transition times kept', () => {
  const t0 = new Date('2026-01-01T00:00:00Z');
  const none = nodeConditions([], [], t0);
  assert.equal(cond(none, 'Ready').status, 'False');
  assert.equal(cond(none, 'MemoryPressure').status, 'False');
  const one = nodeConditions([worker('a', { memory: 'True' }), worker('b')], none, new Date('2026-01-01T00:01:00Z'));
  assert.equal(cond(one, 'Ready').status, 'True');
  assert.equal(cond(one, 'Ready').lastTransitionTime, '2026-01-01T00:01:00Z');
  assert.equal(cond(one, 'MemoryPressure').status, 'False', 'one worker still has memory');
  assert.equal(cond(one, 'MemoryPressure').lastTransitionTime, '2026-01-01T00:00:00Z', 'unchanged condition keeps its transition time');
  const all = nodeConditions([worker('a', { memory: 'True' })], one, t0);
  assert.equal(cond(all, 'MemoryPressure').status, 'True');
  assert.equal(cond(all, 'MemoryPressure').reason, 'KubeletHasInsufficientMemory');
});

test('parseTaint', () => {
  assert.deepEqual(parseTaint('virtual-kubelet.io/provider=burstlet:NoSchedule'), { key: 'virtual-kubelet.io/provider', value: 'burstlet', effect: 'NoSchedule' });
  assert.deepEqual(parseTaint('dedicated:NoExecute'), { key: 'dedicated', effect: 'NoExecute' });
});
