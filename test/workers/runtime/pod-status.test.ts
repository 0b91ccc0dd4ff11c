import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConditionClock, containerStatusV1, podConditions, podPhase, type ContainerTrack } from '../../../workers/runtime/pod-status.ts';

const track = (name: string, state: ContainerTrack['state'], more: Partial<ContainerTrack> = {}): ContainerTrack => ({
  name, init: false, sidecar: false, image: 'img', state, restartCount: 0, ready: false, started: false, willRestart: false, ...more,
});
const running = { running: { startedAt: '2026-01-01T00:00:00Z' } };
const exited = (exitCode: number) => ({ terminated: { exitCode, reason: exitCode ? 'Error' : 'Completed' } });

test('containerStatusV1: the v1 shape with burstlet:// container ids', () => {
  const s = containerStatusV1(track('a', running, { containerID: 'u_a_0', imageID: 'sha256:1', ready: true, started: true }));
  assert.deepEqual(s, { name: 'a', state: running, lastState: {}, ready: true, restartCount: 0, image: 'img', imageID: 'sha256:1', containerID: 'burstlet://u_a_0', started: true });
});

test('podPhase follows the kubelet: Pending, Running, Succeeded, Failed', () => {
  assert.equal(podPhase([], [track('a', { waiting: { reason: 'ContainerCreating' } })], true), 'Pending');
  assert.equal(podPhase([track('i', running, { init: true })], [track('a', { waiting: { reason: 'PodInitializing' } })], false), 'Pending');
  assert.equal(podPhase([track('i', exited(1), { init: true })], [], false), 'Failed');
  assert.equal(podPhase([], [track('a', running), track('b', exited(0))], true), 'Running');
  assert.equal(podPhase([], [track('a', { waiting: { reason: 'CrashLoopBackOff' } }, { restartCount: 2, willRestart: true })], true), 'Running');
  assert.equal(podPhase([], [track('a', exited(0)), track('b', exited(0))], true), 'Succeeded');
  assert.equal(podPhase([], [track('a', exited(0)), track('b', exited(2))], true), 'Failed');
});

test('podConditions: reasons and messages as the kubelet writes them; the clock keeps transition times', () => {
  const init = [track('setup', running, { init: true })];
  const app = [track('a', { waiting: { reason: 'PodInitializing' } })];
  const c = podConditions({ sandboxReady: true, initDone: false, phase: 'Pending', init, app });
  assert.deepEqual(c.map((x) => x.type), ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled']);
  assert.deepEqual(c[1], { type: 'Initialized', status: 'False', reason: 'ContainersNotInitialized', message: 'containers with incomplete status: [setup]' });
  assert.deepEqual(c[2], { type: 'Ready', status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [a]' });
  const ready = podConditions({ sandboxReady: true, initDone: true, phase: 'Running', init: [], app: [track('a', running, { ready: true })] });
  assert.deepEqual(ready.map((x) => x.status), ['True', 'True', 'True', 'True', 'True']);
  const clock = new ConditionClock();
  const t1 = clock.stamp(c, Date.UTC(2026, 0, 1));
  const t2 = clock.stamp(ready, Date.UTC(2026, 0, 2));
  assert.equal(t2[0].lastTransitionTime, t1[0].lastTransitionTime); // PodReadyToStartContainers stayed True
  assert.equal(t2[2].lastTransitionTime, '2026-01-02T00:00:00Z');
});
