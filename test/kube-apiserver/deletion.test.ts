import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startKubeApiServer, type KubeApiServer } from '../support/kube-apiserver/index.ts';
import { call, openWatch } from '../support/kube-apiserver/raw-client.ts';

let s: KubeApiServer;
const api = (method: string, path: string, body?: unknown, contentType?: string) => call(s.url, method, path, body, { token: s.token, contentType });
const PODS = '/api/v1/namespaces/default/pods';
const pod = (name: string, spec: Record<string, unknown> = {}, meta: Record<string, unknown> = {}) =>
  ({ metadata: { name, ...meta }, spec: { containers: [{ name: 'c', image: 'i:1' }], ...spec } });

before(async () => {
  s = await startKubeApiServer();
});
after(() => s.stop());

test('a bound pod is marked (MODIFIED) and kept; DELETE with grace 0 then removes it (DELETED)', async () => {
  const created = (await api('POST', PODS, pod('g-bound', { nodeName: 'n1', terminationGracePeriodSeconds: 45 }))).body;
  const w = await openWatch(s.url, `${PODS}?watch=1&fieldSelector=metadata.name%3Dg-bound&resourceVersion=${created.metadata.resourceVersion}`, s.token);
  try {
    const first = await api('DELETE', PODS + '/g-bound');
    assert.equal(first.status, 200);
    assert.equal(first.body.kind, 'Pod');
    assert.equal(first.body.metadata.deletionGracePeriodSeconds, 45);
    assert.ok(first.body.metadata.deletionTimestamp);
    const deadline = Date.parse(first.body.metadata.deletionTimestamp);
    const created_at = Date.parse(created.metadata.creationTimestamp);
    assert.ok(deadline - created_at >= 44_000, 'deletionTimestamp = now + grace');
    assert.equal(first.body.metadata.generation, created.metadata.generation + 1);
    assert.equal((await api('GET', PODS + '/g-bound')).status, 200, 'still there');
    await w.waitFor((e) => e.type === 'MODIFIED' && e.object.metadata.deletionTimestamp);
    const again = await api('DELETE', PODS + '/g-bound');
    assert.equal(again.body.metadata.resourceVersion, first.body.metadata.resourceVersion, 'a second DELETE without grace changes nothing');
    const final = await api('DELETE', PODS + '/g-bound', { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0, preconditions: { uid: created.metadata.uid } });
    assert.equal(final.status, 200);
    await w.waitFor((e) => e.type === 'DELETED');
    assert.equal((await api('GET', PODS + '/g-bound')).status, 404);
    assert.deepEqual(w.events.map((e) => e.type), ['MODIFIED', 'MODIFIED', 'DELETED']);
    assert.equal(w.events[1].object.metadata.deletionGracePeriodSeconds, 0);
  } finally {
    w.close();
  }
});

test('the grace period can only shrink; gracePeriodSeconds as query parameter', async () => {
  await api('POST', PODS, pod('g-shrink', { nodeName: 'n1' }));
  const first = await api('DELETE', `${PODS}/g-shrink?gracePeriodSeconds=20`);
  assert.equal(first.body.metadata.deletionGracePeriodSeconds, 20);
  const longer = await api('DELETE', `${PODS}/g-shrink?gracePeriodSeconds=60`);
  assert.equal(longer.body.metadata.deletionGracePeriodSeconds, 20);
  const shorter = await api('DELETE', `${PODS}/g-shrink?gracePeriodSeconds=5`);
  assert.equal(shorter.body.metadata.deletionGracePeriodSeconds, 5);
  assert.equal(Date.parse(first.body.metadata.deletionTimestamp) - Date.parse(shorter.body.metadata.deletionTimestamp), 15_000);
  await api('DELETE', `${PODS}/g-shrink?gracePeriodSeconds=0`);
  assert.equal((await api('GET', PODS + '/g-shrink')).status, 404);
});

test('an unbound pod and a terminal pod are removed at once', async () => {
  await api('POST', PODS, pod('g-unbound'));
  const res = await api('DELETE', PODS + '/g-unbound');
  assert.equal(res.status, 200);
  assert.equal((await api('GET', PODS + '/g-unbound')).status, 404);
  await api('POST', PODS, pod('g-done', { nodeName: 'n1' }));
  await api('PATCH', PODS + '/g-done/status', { status: { phase: 'Succeeded' } }, 'application/merge-patch+json');
  await api('DELETE', PODS + '/g-done');
  assert.equal((await api('GET', PODS + '/g-done')).status, 404);
});

test('a UID precondition that does not match is 409 Conflict', async () => {
  await api('POST', PODS, pod('g-pre', { nodeName: 'n1' }));
  const res = await api('DELETE', PODS + '/g-pre', { gracePeriodSeconds: 0, preconditions: { uid: 'not-the-uid' } });
  assert.equal(res.status, 409);
  assert.match(res.body.message, /the UID in the precondition \(not-the-uid\) does not match/);
  assert.equal((await api('GET', PODS + '/g-pre')).status, 200);
});

test('finalizers block removal until the last one is gone', async () => {
  await api('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'fin', finalizers: ['example.com/hold'] } });
  const del = await api('DELETE', '/api/v1/namespaces/default/configmaps/fin');
  assert.equal(del.body.kind, 'ConfigMap');
  assert.ok(del.body.metadata.deletionTimestamp);
  assert.equal((await api('GET', '/api/v1/namespaces/default/configmaps/fin')).status, 200);
  const add = await api('PATCH', '/api/v1/namespaces/default/configmaps/fin', { metadata: { finalizers: ['example.com/hold', 'example.com/new'] } }, 'application/merge-patch+json');
  assert.equal(add.status, 422, 'no new finalizers while deleting');
  const w = await openWatch(s.url, `/api/v1/namespaces/default/configmaps?watch=1&fieldSelector=metadata.name%3Dfin&resourceVersion=${del.body.metadata.resourceVersion}`, s.token);
  await api('PATCH', '/api/v1/namespaces/default/configmaps/fin', { metadata: { finalizers: null } }, 'application/merge-patch+json');
  assert.equal((await api('GET', '/api/v1/namespaces/default/configmaps/fin')).status, 404);
  await w.waitFor((e) => e.type === 'DELETED');
  w.close();
  assert.deepEqual(w.events.map((e) => e.type), ['DELETED'], 'removing the last finalizer deletes without an update');
  await api('POST', PODS, pod('g-fin', { nodeName: 'n1' }, { finalizers: ['example.com/hold'] }));
  await api('DELETE', `${PODS}/g-fin?gracePeriodSeconds=0`);
  const held = await api('GET', PODS + '/g-fin');
  assert.equal(held.status, 200, 'grace 0 with a finalizer keeps the pod');
  assert.equal(held.body.metadata.deletionGracePeriodSeconds, 0);
});

test('node deletion is immediate; eviction deletes gracefully; deletecollection by selector', async () => {
  await api('POST', '/api/v1/nodes', { metadata: { name: 'del-node' } });
  assert.equal((await api('DELETE', '/api/v1/nodes/del-node')).status, 200);
  assert.equal((await api('GET', '/api/v1/nodes/del-node')).status, 404);
  await api('POST', PODS, pod('g-evict', { nodeName: 'n1' }));
  const ev = await api('POST', PODS + '/g-evict/eviction', { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'g-evict' } });
  assert.equal(ev.status, 201);
  assert.ok((await api('GET', PODS + '/g-evict')).body.metadata.deletionTimestamp);
  for (const n of ['dc-1', 'dc-2']) await api('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: n, labels: { dc: 'yes' } } });
  const dc = await api('DELETE', '/api/v1/namespaces/default/configmaps?labelSelector=dc%3Dyes');
  assert.equal(dc.status, 200);
  assert.equal((await api('GET', '/api/v1/namespaces/default/configmaps?labelSelector=dc%3Dyes')).body.items.length, 0);
});

test('namespace deletion: built-ins are protected, others terminate and vanish with their content', async () => {
  const protectedNs = await api('DELETE', '/api/v1/namespaces/default');
  assert.equal(protectedNs.status, 403);
  await api('POST', '/api/v1/namespaces', { metadata: { name: 'doomed' } });
  await api('POST', '/api/v1/namespaces/doomed/configmaps', { metadata: { name: 'x' } });
  const del = await api('DELETE', '/api/v1/namespaces/doomed');
  assert.equal(del.body.status.phase, 'Terminating');
  for (let i = 0; i < 200 && (await api('GET', '/api/v1/namespaces/doomed')).status !== 404; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal((await api('GET', '/api/v1/namespaces/doomed')).status, 404);
  assert.equal((await api('GET', '/api/v1/namespaces/doomed/configmaps/x')).status, 404);
});
