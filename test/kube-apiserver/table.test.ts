import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findResource } from '../support/kube-apiserver/resources.ts';
import { humanDuration, toTable, wantsTable } from '../support/kube-apiserver/table.ts';

test('humanDuration matches apimachinery duration.HumanDuration', () => {
  const s = 1000;
  const cases: [number, string][] = [
    [-5 * s, '<invalid>'], [-1 * s, '0s'], [0, '0s'], [119 * s, '119s'], [120 * s, '2m'], [125 * s, '2m5s'], [600 * s, '10m'],
    [179 * 60 * s, '179m'], [3 * 3600 * s, '3h'], [(3 * 60 + 7) * 60 * s, '3h7m'], [8 * 3600 * s, '8h'], [47 * 3600 * s, '47h'],
    [48 * 3600 * s, '2d'], [50 * 3600 * s, '2d2h'], [8 * 86400 * s, '8d'], [730 * 86400 * s, '2y'], [735 * 86400 * s, '2y5d'], [9 * 365 * 86400 * s, '9y'],
  ];
  for (const [ms, want] of cases) assert.equal(humanDuration(ms), want, String(ms));
});

test('wantsTable recognises kubectl Accept headers only', () => {
  assert.equal(wantsTable('application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json'), true);
  assert.equal(wantsTable('application/json'), false);
  assert.equal(wantsTable(undefined), false);
});

test('pod rows: READY, STATUS from container states, Terminating, RESTARTS sum', () => {
  const def = findResource('', 'v1', 'pods')!;
  const pod = (status: unknown, meta: Record<string, unknown> = {}) => ({
    metadata: { name: 'p', creationTimestamp: new Date().toISOString(), ...meta },
    spec: { nodeName: 'n', containers: [{ name: 'a' }, { name: 'b' }] }, status,
  });
  const cells = (p: unknown) => (toTable(def, [p as never], {}).rows as { cells: unknown[] }[])[0].cells;
  const running = { phase: 'Running', podIP: '10.0.0.1', containerStatuses: [
    { name: 'a', ready: true, restartCount: 1, state: { running: {} } }, { name: 'b', ready: false, restartCount: 2, state: { waiting: { reason: 'CrashLoopBackOff' } } }] };
  assert.deepEqual(cells(pod(running)).slice(0, 4), ['p', '1/2', 'CrashLoopBackOff', 3]);
  assert.deepEqual(cells(pod(running)).slice(5, 7), ['10.0.0.1', 'n']);
  const done = { phase: 'Succeeded', containerStatuses: [{ name: 'a', state: { terminated: { exitCode: 0, reason: 'Completed' } } }, { name: 'b', state: { terminated: { exitCode: 2 } } }] };
  assert.equal(cells(pod(done))[2], 'Completed');
  assert.equal(cells(pod({ phase: 'Running' }, { deletionTimestamp: '2025-01-01T00:00:00Z' }))[2], 'Terminating');
  const table = toTable(def, [pod(running) as never], { resourceVersion: '7' });
  assert.equal(table.kind, 'Table');
  assert.deepEqual((table.columnDefinitions as { name: string }[]).map((c) => c.name).slice(0, 5), ['Name', 'Ready', 'Status', 'Restarts', 'Age']);
});
