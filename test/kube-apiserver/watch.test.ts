import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startKubeApiServer, type KubeApiServer } from '../support/kube-apiserver/index.ts';
import { call, openWatch } from '../support/kube-apiserver/raw-client.ts';

let s: KubeApiServer;
const api = (method: string, path: string, body?: unknown, contentType?: string) => call(s.url, method, path, body, { token: s.token, contentType });
const watch = (path: string) => openWatch(s.url, path, s.token);
const cm = (name: string, labels: Record<string, string> = {}) => ({ metadata: { name, labels } });

before(async () => {
  s = await startKubeApiServer({ bookmarkIntervalMs: 50 });
});
after(() => s.stop());

test('watch without resourceVersion starts with ADDED for existing objects, then live events', async () => {
  await api('POST', '/api/v1/namespaces/kube-public/configmaps', cm('w-existing'));
  const w = await watch('/api/v1/namespaces/kube-public/configmaps?watch=1');
  try {
    assert.equal(w.status, 200);
    await w.waitFor((e) => e.type === 'ADDED' && e.object.metadata.name === 'w-existing');
    await api('POST', '/api/v1/namespaces/kube-public/configmaps', cm('w-new'));
    const added = await w.waitFor((e) => e.object.metadata.name === 'w-new');
    assert.equal(added.type, 'ADDED');
    assert.equal(added.object.kind, 'ConfigMap');
    await api('PATCH', '/api/v1/namespaces/kube-public/configmaps/w-new', { data: { a: '1' } }, 'application/merge-patch+json');
    const deleted = await api('DELETE', '/api/v1/namespaces/kube-public/configmaps/w-new');
    await w.waitFor((e) => e.type === 'DELETED' && e.object.metadata.name === 'w-new');
    const types = w.events.filter((e) => e.object.metadata.name === 'w-new').map((e) => e.type);
    assert.deepEqual(types, ['ADDED', 'MODIFIED', 'DELETED']);
    const del = w.events.find((e) => e.type === 'DELETED')!;
    assert.equal(del.object.data.a, '1', 'DELETED carries the last state');
    assert.ok(Number(del.object.metadata.resourceVersion) > Number(w.events[1].object.metadata.resourceVersion));
    assert.equal(deleted.body.kind, 'Status', 'configmap DELETE answers with a Status');
  } finally {
    w.close();
  }
});

test('watch from a resourceVersion replays only later changes, in order', async () => {
  const first = await api('POST', '/api/v1/namespaces/default/configmaps', cm('rv-1'));
  await api('POST', '/api/v1/namespaces/default/configmaps', cm('rv-2'));
  await api('PATCH', '/api/v1/namespaces/default/configmaps/rv-1', { data: { x: 'y' } }, 'application/merge-patch+json');
  const w = await watch(`/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${first.body.metadata.resourceVersion}`);
  try {
    await w.waitFor((e) => e.type === 'MODIFIED' && e.object.metadata.name === 'rv-1');
    assert.deepEqual(w.events.map((e) => `${e.type}:${e.object.metadata.name}`).slice(0, 2), ['ADDED:rv-2', 'MODIFIED:rv-1']);
  } finally {
    w.close();
  }
});

test('a resourceVersion older than the history gets an ERROR event with 410 Expired and the stream ends', async () => {
  const first = await api('POST', '/api/v1/namespaces/default/configmaps', cm('gone-1'));
  await api('POST', '/api/v1/namespaces/default/configmaps', cm('gone-2'));
  s.compact();
  const w = await watch(`/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=${first.body.metadata.resourceVersion}`);
  assert.equal(w.status, 200);
  await w.ended;
  assert.equal(w.events.length, 1);
  assert.equal(w.events[0].type, 'ERROR');
  const status = w.events[0].object;
  assert.equal(status.kind, 'Status');
  assert.equal(status.code, 410);
  assert.equal(status.reason, 'Expired');
  assert.match(status.message, /^too old resource version: \d+ \(\d+\)$/);
  const list = await api('GET', '/api/v1/namespaces/default/configmaps');
  const fresh = await watch(`/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=${list.body.metadata.resourceVersion}`);
  await api('POST', '/api/v1/namespaces/default/configmaps', cm('gone-3'));
  await fresh.waitFor((e) => e.object.metadata?.name === 'gone-3');
  fresh.close();
});

test('a future resourceVersion is 504 Timeout "Too large resource version"', async () => {
  const res = await api('GET', '/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=999999999');
  assert.equal(res.status, 504);
  assert.equal(res.body.details.causes[0].reason, 'ResourceVersionTooLarge');
});

test('allowWatchBookmarks=true gets BOOKMARK events carrying the current resourceVersion', async () => {
  const list = await api('GET', '/api/v1/pods');
  const w = await watch(`/api/v1/pods?watch=1&allowWatchBookmarks=true&resourceVersion=${list.body.metadata.resourceVersion}`);
  const plain = await watch(`/api/v1/nodes?watch=1&resourceVersion=${list.body.metadata.resourceVersion}`);
  try {
    const bm = await w.waitFor((e) => e.type === 'BOOKMARK');
    assert.equal(bm.object.kind, 'Pod');
    assert.ok(Number(bm.object.metadata.resourceVersion) >= Number(list.body.metadata.resourceVersion));
    await api('POST', '/api/v1/namespaces/default/configmaps', cm('bm-later'));
    const later = await w.waitFor((e) => e.type === 'BOOKMARK' && Number(e.object.metadata.resourceVersion) > Number(bm.object.metadata.resourceVersion));
    assert.ok(later);
    await w.waitFor((e) => e.type === 'BOOKMARK', 10_000, w.events.indexOf(later) + 1);
    assert.equal(plain.events.filter((e) => e.type === 'BOOKMARK').length, 0, 'no bookmarks unless asked');
  } finally {
    w.close();
    plain.close();
  }
});

test('timeoutSeconds ends the stream', async () => {
  const w = await watch('/api/v1/namespaces/default/configmaps?watch=1&timeoutSeconds=1');
  await w.ended;
  assert.ok(w.events.length > 0, 'initial events were sent before the timeout');
});

test('selectors apply to watches; leaving the selector is DELETED, entering is ADDED', async () => {
  const base = '/api/v1/namespaces/default/pods';
  const pod = { metadata: { name: 'sel-p' }, spec: { containers: [{ name: 'c', image: 'i:1' }] } };
  const list = await api('GET', base);
  const w = await watch(`${base}?watch=1&labelSelector=role%3Dweb&resourceVersion=${list.body.metadata.resourceVersion}`);
  const byNode = await watch(`/api/v1/pods?watch=1&fieldSelector=spec.nodeName%3Dsel-node&resourceVersion=${list.body.metadata.resourceVersion}`);
  try {
    await api('POST', base, pod);
    await api('PATCH', `${base}/sel-p`, { metadata: { labels: { role: 'web' } } }, 'application/merge-patch+json');
    await w.waitFor((e) => e.type === 'ADDED');
    await api('PATCH', `${base}/sel-p`, { metadata: { labels: { role: 'db' } } }, 'application/merge-patch+json');
    const left = await w.waitFor((e) => e.type === 'DELETED');
    assert.equal(left.object.metadata.labels.role, 'web', 'DELETED carries the previous content');
    const rvAfter = (await api('GET', `${base}/sel-p`)).body.metadata.resourceVersion;
    assert.equal(left.object.metadata.resourceVersion, rvAfter, '...with the resourceVersion of the change');
    await api('POST', '/api/v1/namespaces/default/pods/sel-p/binding', { target: { kind: 'Node', name: 'sel-node' } });
    const bound = await byNode.waitFor((e) => e.object.metadata?.name === 'sel-p');
    assert.equal(bound.type, 'ADDED', 'binding brings the pod into a spec.nodeName watch');
    assert.equal(bound.object.spec.nodeName, 'sel-node');
    assert.deepEqual(w.events.map((e) => e.type), ['ADDED', 'DELETED']);
  } finally {
    w.close();
    byNode.close();
  }
});

test('single-object watches: /watch/ path and metadata.name field selector', async () => {
  await api('POST', '/api/v1/namespaces/default/configmaps', cm('one'));
  await api('POST', '/api/v1/namespaces/default/configmaps', cm('other'));
  const byPath = await watch('/api/v1/watch/namespaces/default/configmaps/one');
  const bySel = await watch('/api/v1/namespaces/default/configmaps?watch=1&fieldSelector=metadata.name%3Done');
  try {
    await byPath.waitFor((e) => e.object.metadata.name === 'one');
    await bySel.waitFor((e) => e.object.metadata.name === 'one');
    await api('PATCH', '/api/v1/namespaces/default/configmaps/other', { data: { a: 'b' } }, 'application/merge-patch+json');
    await api('PATCH', '/api/v1/namespaces/default/configmaps/one', { data: { a: 'b' } }, 'application/merge-patch+json');
    await byPath.waitFor((e) => e.type === 'MODIFIED');
    await bySel.waitFor((e) => e.type === 'MODIFIED');
    for (const w of [byPath, bySel]) assert.ok(w.events.every((e) => e.object.metadata.name === 'one'));
  } finally {
    byPath.close();
    bySel.close();
  }
});

test('events.k8s.io watches see core/v1 events in events.k8s.io form', async () => {
  const list = await api('GET', '/apis/events.k8s.io/v1/namespaces/default/events');
  const w = await watch(`/apis/events.k8s.io/v1/namespaces/default/events?watch=1&resourceVersion=${list.body.metadata.resourceVersion}`);
  try {
    await api('POST', '/api/v1/namespaces/default/events', { metadata: { name: 'w-ev' }, involvedObject: { kind: 'Pod', name: 'x', namespace: 'default' }, reason: 'Pulled', message: 'done', type: 'Normal' });
    const ev = await w.waitFor((e) => e.object.metadata.name === 'w-ev');
    assert.equal(ev.object.apiVersion, 'events.k8s.io/v1');
    assert.equal(ev.object.note, 'done');
    assert.equal(ev.object.regarding.name, 'x');
    assert.equal(ev.object.message, undefined);
  } finally {
    w.close();
  }
});

test('stop() ends open watches', async () => {
  const other = await startKubeApiServer();
  const w = await openWatch(other.url, '/api/v1/pods?watch=1', other.token);
  await other.stop();
  await w.ended;
  assert.equal(w.status, 200);
});
