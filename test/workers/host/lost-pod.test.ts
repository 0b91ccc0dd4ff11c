import assert from 'node:assert/strict';
import { test } from 'node:test';
import { carriedFrom, lostState, lostStatuses, parseStatuses } from '../../../workers/host/lost-pod.ts';

const started = '2026-01-01T00:00:00Z';
const crashed = { terminated: { exitCode: 1, reason: 'Error', startedAt: started, finishedAt: '2026-01-01T00:00:05Z' } };
const status = (name: string, restartCount: number, state: object, lastState: object = {}) =>
  ({ name, state, lastState, ready: false, restartCount, image: 'busybox', imageID: '', started: false });

const saved = {
  workerId: 'wa', seq: 7,
  initContainerStatuses: [status('init', 0, { terminated: { exitCode: 0, reason: 'Completed' } })],
  containerStatuses: [
    status('server', 2, { running: { startedAt: started } }, crashed),
    status('crashy', 4, { waiting: { reason: 'CrashLoopBackOff' } }, crashed),
    status('fresh', 0, { waiting: { reason: 'ContainerCreating' } }),
    status('done', 0, crashed),
  ],
};

test('lostState: what the kubelet reports for a container it can no longer locate (exit 137), naming the lost worker', () => {
  assert.deepEqual(lostState('wa', started), {
    terminated: { exitCode: 137, reason: 'ContainerStatusUnknown', message: 'The container could not be located: worker wa was lost while it ran', startedAt: started },
  });
  assert.equal('startedAt' in lostState('wa').terminated, false);
});

test('carriedFrom: every container that had started counts one restart; lastState is how its last run ended', () => {
  assert.deepEqual(carriedFrom(saved, 'wa'), {
    init: { restartCount: 1, lastState: { terminated: { exitCode: 0, reason: 'Completed' } } },
    server: { restartCount: 3, lastState: lostState('wa', started) },
    crashy: { restartCount: 5, lastState: crashed },
    fresh: { restartCount: 0 },
    done: { restartCount: 1, lastState: crashed },
  });
});

test('lostStatuses: a Never pod ends with every unterminated container lost, counts unchanged', () => {
  const out = lostStatuses(saved, 'wa');
  const by = (name: string) => [...out.initContainerStatuses!, ...out.containerStatuses!].find((s) => s.name === name) as any;
  assert.deepEqual(by('server'), { ...status('server', 2, lostState('wa', started), crashed), ready: false, started: false });
  assert.deepEqual(by('fresh').state, lostState('wa'));
  assert.deepEqual(by('done'), saved.containerStatuses[3]);
  assert.deepEqual(by('init'), saved.initContainerStatuses[0]);
});

test('parseStatuses: absent or unusable stored statuses mean "nothing to continue from"', () => {
  assert.equal(parseStatuses(null), undefined);
  assert.equal(parseStatuses('{not json'), undefined);
  assert.equal(parseStatuses('{"seq":1}'), undefined);
  assert.deepEqual(parseStatuses(JSON.stringify(saved)), saved);
});
