import assert from 'node:assert/strict';
import { test } from 'node:test';
import { allContainersTerminated, configErrorStatus, statusPatch } from '../../provider/pod-status.ts';
import type { PodEvent } from '../../src/schema/pod-event.ts';

const event = (e: Partial<PodEvent>): PodEvent => ({ uid: 'u', namespace: 'n', name: 'p', seq: 2, workerId: 'w', at: 0, phase: 'Running', ...e });

test('statusPatch: carries the snapshot, keeps lastTransitionTime of unflipped conditions', () => {
  const pod = { status: { phase: 'Pending', conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: 'T0' }, { type: 'Initialized', status: 'True', lastTransitionTime: 'T1' }] } };
  const p = statusPatch(pod, event({ podIP: '10.0.0.1', conditions: [{ type: 'Ready', status: 'True' }, { type: 'Initialized', status: 'True' }] }))!;
  assert.equal(p.status.phase, 'Running');
  assert.deepEqual(p.status.podIPs, [{ ip: '10.0.0.1' }]);
  const ready = p.status.conditions.find((c: any) => c.type === 'Ready');
  const init = p.status.conditions.find((c: any) => c.type === 'Initialized');
  assert.notEqual(ready.lastTransitionTime, 'T0', 'flipped: new transition time');
  assert.equal(init.lastTransitionTime, 'T1', 'unchanged: transition time kept');
});

test('statusPatch: nothing to write when the pod already shows the snapshot', () => {
  const pod = { status: { phase: 'Running', podIP: '10.0.0.1', podIPs: [{ ip: '10.0.0.1' }], conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: 'T' }, { type: 'Other', status: 'True' }] } };
  assert.equal(statusPatch(pod, event({ podIP: '10.0.0.1', conditions: [{ type: 'Ready', status: 'True' }] })), undefined);
  assert.ok(statusPatch(pod, event({ podIP: '10.0.0.2' })));
});

test('statusPatch: a terminal phase is never left', () => {
  const pod = { status: { phase: 'Succeeded' } };
  assert.equal(statusPatch(pod, event({ phase: 'Running' })), undefined);
  assert.equal(statusPatch(pod, event({ phase: 'Failed' })), undefined);
  assert.ok(statusPatch({ status: { phase: 'Failed', reason: 'X' } }, event({ phase: 'Failed', reason: 'Y' })), 'same terminal phase may still be refined');
});

test('allContainersTerminated / configErrorStatus', () => {
  const spec = { containers: [{ name: 'a', image: 'i' }, { name: 'b', image: 'i' }] };
  assert.equal(allContainersTerminated({ spec, status: { containerStatuses: [{ name: 'a', state: { terminated: {} } }] } }), false);
  assert.equal(allContainersTerminated({ spec, status: { containerStatuses: [{ name: 'a', state: { terminated: {} } }, { name: 'b', state: { terminated: {} } }] } }), true);
  assert.equal(allContainersTerminated({ spec, status: { phase: 'Failed' } }), true);
  const s = configErrorStatus({ spec }, 'secret "x" not found').status;
  assert.deepEqual(s.containerStatuses.map((c: any) => c.state.waiting.reason), ['CreateContainerConfigError', 'CreateContainerConfigError']);
});
