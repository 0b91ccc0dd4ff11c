import assert from 'node:assert/strict';
import { test } from 'node:test';
import { controlMessage } from '../../src/schema/control.ts';
import { isNewer, podEvent } from '../../src/schema/pod-event.ts';
import { podJob, podRequests } from '../../src/schema/pod-job.ts';
import { SchemaError } from '../../src/schema/validate.ts';
import { fits, insufficient, workerInfo } from '../../src/schema/worker.ts';

export const sampleJob = () => ({
  version: 1,
  uid: '3f1c9a4e-1111-4222-8333-944455556666',
  namespace: 'default',
  name: 'hello',
  pool: 'default',
  enqueuedAt: 1_700_000_000_000,
  restartPolicy: 'Never',
  containers: [{ name: 'c', image: 'busybox', command: ['echo', 'hi'], requests: { cpuMillis: 250, memoryBytes: 64 << 20 } }],
  initContainers: [{ name: 'init', image: 'busybox', requests: { cpuMillis: 500 } }],
});

test('PodJob: a valid job validates to an equal object', () => {
  const job = sampleJob();
  assert.deepEqual(podJob(JSON.parse(JSON.stringify(job))), job);
});

test('PodJob: errors name the path of the bad field', () => {
  const bad = sampleJob() as Record<string, unknown>;
  (bad.containers as Record<string, unknown>[])[0]!.image = '';
  assert.throws(() => podJob(bad), (e: unknown) => e instanceof SchemaError && e.path === 'containers[0].image');
  assert.throws(() => podJob({ ...sampleJob(), restartPolicy: 'Sometimes' }), /restartPolicy: expected one of/);
  assert.throws(() => podJob({ ...sampleJob(), surprise: 1 }), /unknown field "surprise"/);
  assert.throws(() => podJob({ ...sampleJob(), pool: 'Bad Pool' }), /pool: must match/);
  assert.throws(() => podJob({ ...sampleJob(), version: 2 }), /version/);
  assert.throws(() => podJob('nope'), /expected an object/);
});

test('podRequests counts like the scheduler: sum of containers, max with init containers', () => {
  assert.deepEqual(podRequests(podJob(sampleJob())), { cpuMillis: 500, memoryBytes: 64 << 20 });
});

test('PodEvent: snapshots with a monotonic sequence; isNewer ignores repeats and late ones', () => {
  const e = podEvent({ uid: 'u', namespace: 'n', name: 'p', seq: 2, workerId: 'w', at: 1, phase: 'Running' });
  assert.equal(isNewer(undefined, e), true);
  assert.equal(isNewer({ seq: 2 }, e), false);
  assert.equal(isNewer({ seq: 3 }, e), false);
  assert.equal(isNewer({ seq: 1 }, e), true);
  assert.throws(() => podEvent({ ...e, seq: 0 }), /seq: must be >= 1/);
  assert.throws(() => podEvent({ ...e, phase: 'Done' }), /phase/);
});

test('worker info: fits never overcommits and says why like the scheduler', () => {
  const info = workerInfo({
    id: 'w1', pool: 'default', hostname: 'h', os: 'linux', arch: 'amd64', version: '0.1.0', startedAt: 0, heartbeatAt: 0,
    allocatable: { cpuMillis: 1000, memoryBytes: 1 << 30, pods: 2, ephemeralStorageBytes: 0 },
    used: { cpuMillis: 800, memoryBytes: 0, pods: 1, ephemeralStorageBytes: 0 },
  });
  assert.equal(fits(info, { cpuMillis: 200, memoryBytes: 1 << 30 }), true);
  assert.equal(fits(info, { cpuMillis: 201, memoryBytes: 0 }), false);
  assert.equal(insufficient(info, { cpuMillis: 201, memoryBytes: 0 }), 'Insufficient cpu');
  assert.equal(insufficient({ ...info, used: { ...info.used, pods: 2 } }, { cpuMillis: 0, memoryBytes: (1 << 30) + 1 }), 'Insufficient memory, Too many pods');
});

test('control messages: tagged union by kind', () => {
  assert.equal(controlMessage({ kind: 'stop', uid: 'u', gracePeriodSeconds: 30 }).kind, 'stop');
  assert.throws(() => controlMessage({ kind: 'reboot' }), /kind: expected one of stop, exec, exec-input/);
  assert.throws(() => controlMessage({ kind: 'stop', uid: 'u', gracePeriodSeconds: -1 }), /gracePeriodSeconds/);
});
