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

test('carriedFrom under OnFailure: an app container that had succeeded stays done (the kubelet skips it); all done → the init containers too', () => {
  const ok = { terminated: { exitCode: 0, reason: 'Completed', startedAt: started, finishedAt: '2026-01-01T00:00:03Z' } };
  const mixed = {
    workerId: 'wa', seq: 3,
    initContainerStatuses: [status('init', 0, { terminated: { exitCode: 0, reason: 'Completed' } })],
    containerStatuses: [status('ok', 1, ok, crashed), status('server', 0, { running: { startedAt: started } })],
  };
  assert.deepEqual(carriedFrom(mixed, 'wa', 'OnFailure'), {
    init: { restartCount: 1, lastState: { terminated: { exitCode: 0, reason: 'Completed' } } }, // runs again with the new sandbox
    ok: { restartCount: 1, lastState: crashed, completed: ok.terminated },
    server: { restartCount: 1, lastState: lostState('wa', started) },
  });
  assert.deepEqual(carriedFrom(mixed, 'wa', 'Always').ok, { restartCount: 2, lastState: { terminated: ok.terminated } }, 'Always restarts it');
  const allDone = { ...mixed, containerStatuses: [status('ok', 0, ok)] };
  assert.deepEqual(carriedFrom(allDone, 'wa', 'OnFailure'), {
    init: { restartCount: 0, completed: { exitCode: 0, reason: 'Completed' } },
    ok: { restartCount: 0, completed: ok.terminated },
  });
});
