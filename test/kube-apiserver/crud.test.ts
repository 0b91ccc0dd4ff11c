import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startKubeApiServer, type KubeApiServer } from '../support/kube-apiserver/index.ts';
import { call } from '../support/kube-apiserver/raw-client.ts';

let s: KubeApiServer;
const api = (method: string, path: string, body?: unknown, contentType?: string) => call(s.url, method, path, body, { token: s.token, contentType });
const PODS = '/api/v1/namespaces/default/pods';
const pod = (name: string, extra: Record<string, unknown> = {}) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, ...extra }, spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] } });

before(async () => {
  s = await startKubeApiServer();
});
after(() => s.stop());

test('create sets uid, creationTimestamp, resourceVersion, generation; get returns it', async () => {
  const res = await api('POST', PODS, pod('crud-a', { labels: { app: 'a' } }));
  assert.equal(res.status, 201);
  const meta = res.body.metadata;
  assert.match(meta.uid, /^[0-9a-f-]{36}$/);
  assert.match(meta.creationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.match(meta.resourceVersion, /^\d+$/);
  assert.equal(meta.generation, 1);
  assert.equal(res.body.status.phase, 'Pending');
  assert.equal(res.body.spec.terminationGracePeriodSeconds, 30);
  const got = await api('GET', `${PODS}/crud-a`);
  assert.equal(got.status, 200);
  assert.equal(got.body.kind, 'Pod');
  assert.equal(got.body.metadata.uid, meta.uid);
});

test('resourceVersion is global and increases with every write', async () => {
  const a = await api('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'rv-a' } });
  const b = await api('POST', '/api/v1/namespaces/kube-system/configmaps', { metadata: { name: 'rv-b' } });
  assert.ok(Number(b.body.metadata.resourceVersion) > Number(a.body.metadata.resourceVersion));
});

test('generateName gets the apiserver suffix; duplicate name is 409 AlreadyExists', async () => {
  const gen = await api('POST', PODS, { ...pod(''), metadata: { generateName: 'gen-' } });
  assert.equal(gen.status, 201);
  assert.match(gen.body.metadata.name, /^gen-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  await api('POST', PODS, pod('dup'));
  const again = await api('POST', PODS, pod('dup'));
  assert.equal(again.status, 409);
  assert.deepEqual(again.body, {
    kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'pods "dup" already exists',
    reason: 'AlreadyExists', details: { name: 'dup', kind: 'pods' }, code: 409,
  });
});

test('404 NotFound is a full Status object, group-qualified for non-core resources', async () => {
  const res = await api('GET', '/apis/coordination.k8s.io/v1/namespaces/default/leases/none');
  assert.equal(res.status, 404);
  assert.deepEqual(res.body, {
    kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'leases.coordination.k8s.io "none" not found',
    reason: 'NotFound', details: { name: 'none', group: 'coordination.k8s.io', kind: 'leases' }, code: 404,
  });
  const ns = await api('POST', '/api/v1/namespaces/nope/configmaps', { metadata: { name: 'x' } });
  assert.equal(ns.status, 404);
  assert.equal(ns.body.message, 'namespaces "nope" not found');
});

test('PUT with a stale resourceVersion is 409 Conflict; without one it is unconditional', async () => {
  const created = (await api('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'cm-conflict' }, data: { a: '1' } })).body;
  const first = await api('PUT', '/api/v1/namespaces/default/configmaps/cm-conflict', { ...created, data: { a: '2' } });
  assert.equal(first.status, 200);
  const stale = await api('PUT', '/api/v1/namespaces/default/configmaps/cm-conflict', { ...created, data: { a: '3' } });
  assert.equal(stale.status, 409);
  assert.equal(stale.body.reason, 'Conflict');
  assert.equal(stale.body.message, 'Operation cannot be fulfilled on configmaps "cm-conflict": the object has been modified; please apply your changes to the latest version and try again');
  const unconditional = await api('PUT', '/api/v1/namespaces/default/configmaps/cm-conflict', { metadata: { name: 'cm-conflict' }, data: { a: '4' } });
  assert.equal(unconditional.status, 200);
  assert.equal(unconditional.body.metadata.uid, created.metadata.uid, 'uid kept');
});

test('a no-op update keeps the resourceVersion', async () => {
  const created = (await api('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'cm-noop' }, data: { a: '1' } })).body;
  const same = await api('PUT', '/api/v1/namespaces/default/configmaps/cm-noop', created);
  assert.equal(same.body.metadata.resourceVersion, created.metadata.resourceVersion);
});

test('422 Invalid names the fields', async () => {
  const res = await api('POST', PODS, { metadata: { name: 'bad' }, spec: { containers: [{ name: 'c' }], restartPolicy: 'Sometimes' } });
  assert.equal(res.status, 422);
  assert.equal(res.body.reason, 'Invalid');
  assert.deepEqual(res.body.details.causes.map((c: any) => c.field), ['spec.containers[0].image', 'spec.restartPolicy']);
  assert.match(res.body.message, /^Pod "bad" is invalid: \[spec\.containers\[0\]\.image: Required value, spec\.restartPolicy: Unsupported value/);
});

test('pod spec is immutable except images; the spec change bumps generation', async () => {
  const created = (await api('POST', PODS, pod('immut'))).body;
  const img = await api('PATCH', `${PODS}/immut`, { spec: { containers: [{ name: 'c', image: 'busybox:1.37' }] } }, 'application/strategic-merge-patch+json');
  assert.equal(img.status, 200);
  assert.equal(img.body.metadata.generation, 2);
  const bad = await api('PATCH', `${PODS}/immut`, { spec: { restartPolicy: 'Never' } }, 'application/merge-patch+json');
  assert.equal(bad.status, 422);
  assert.match(bad.body.message, /pod updates may not change fields/);
  assert.equal(created.metadata.generation, 1);
});

test('status subresource changes only status; the main resource ignores status', async () => {
  const created = (await api('POST', PODS, pod('st'))).body;
  const viaMain = await api('PATCH', `${PODS}/st`, { status: { phase: 'Running' }, metadata: { labels: { x: 'y' } } }, 'application/merge-patch+json');
  assert.equal(viaMain.body.status.phase, 'Pending');
  assert.equal(viaMain.body.metadata.labels.x, 'y');
  const viaStatus = await api('PATCH', `${PODS}/st/status`, { status: { phase: 'Running' }, spec: { restartPolicy: 'Never' } }, 'application/merge-patch+json');
  assert.equal(viaStatus.status, 200);
  assert.equal(viaStatus.body.status.phase, 'Running');
  assert.equal(viaStatus.body.spec.restartPolicy, 'Always');
  assert.equal(viaStatus.body.metadata.generation, created.metadata.generation, 'status writes do not bump generation');
  const put = await api('PUT', `${PODS}/st/status`, { ...viaStatus.body, status: { phase: 'Succeeded' } });
  assert.equal(put.body.status.phase, 'Succeeded');
});

test('PATCH content types: merge, strategic, json (test op), apply is 415', async () => {
  await api('POST', '/api/v1/nodes', { metadata: { name: 'patch-node' }, status: { conditions: [{ type: 'Ready', status: 'False' }] } });
  const smp = await api('PATCH', '/api/v1/nodes/patch-node/status', { status: { conditions: [{ type: 'DiskPressure', status: 'False' }] } }, 'application/strategic-merge-patch+json');
  assert.deepEqual(smp.body.status.conditions.map((c: any) => c.type), ['Ready', 'DiskPressure']);
  const merge = await api('PATCH', '/api/v1/nodes/patch-node/status', { status: { conditions: [{ type: 'PIDPressure', status: 'False' }] } }, 'application/merge-patch+json');
  assert.deepEqual(merge.body.status.conditions.map((c: any) => c.type), ['PIDPressure']);
  const failing = await api('PATCH', '/api/v1/nodes/patch-node', [{ op: 'test', path: '/metadata/name', value: 'other' }], 'application/json-patch+json');
  assert.equal(failing.status, 422);
  const ok = await api('PATCH', '/api/v1/nodes/patch-node', [{ op: 'test', path: '/metadata/name', value: 'patch-node' }, { op: 'add', path: '/metadata/labels', value: { a: 'b' } }], 'application/json-patch+json');
  assert.equal(ok.body.metadata.labels.a, 'b');
  const apply = await api('PATCH', '/api/v1/nodes/patch-node', { metadata: { labels: { c: 'd' } } }, 'application/apply-patch+yaml');
  assert.equal(apply.status, 415);
  const staleRv = await api('PATCH', '/api/v1/nodes/patch-node', { metadata: { resourceVersion: '1' } }, 'application/merge-patch+json');
  assert.equal(staleRv.status, 409);
});

test('list: labelSelector, fieldSelector, resourceVersion, limit/continue, items without kind', async () => {
  for (const [name, node] of [['l1', 'n-a'], ['l2', 'n-b'], ['l3', 'n-a']]) {
    await api('POST', '/api/v1/namespaces/kube-public/pods', { ...pod(name, { labels: { grp: 'list' } }), spec: { nodeName: node, containers: [{ name: 'c', image: 'i:1' }] } });
  }
  const byField = await api('GET', '/api/v1/pods?fieldSelector=spec.nodeName%3Dn-a');
  assert.equal(byField.body.kind, 'PodList');
  assert.match(byField.body.metadata.resourceVersion, /^\d+$/);
  assert.deepEqual(byField.body.items.map((p: any) => p.metadata.name), ['l1', 'l3']);
  assert.equal(byField.body.items[0].kind, undefined);
  const byNs = await api('GET', '/api/v1/pods?fieldSelector=metadata.namespace%3Dkube-public,metadata.name!%3Dl1&labelSelector=grp%3Dlist');
  assert.deepEqual(byNs.body.items.map((p: any) => p.metadata.name), ['l2', 'l3']);
  const page1 = await api('GET', '/api/v1/namespaces/kube-public/pods?limit=2');
  assert.equal(page1.body.items.length, 2);
  assert.equal(page1.body.metadata.remainingItemCount, 1);
  const page2 = await api('GET', `/api/v1/namespaces/kube-public/pods?limit=2&continue=${encodeURIComponent(page1.body.metadata.continue)}`);
  assert.deepEqual(page2.body.items.map((p: any) => p.metadata.name), ['l3']);
  assert.equal(page2.body.metadata.continue, undefined);
  const bad = await api('GET', '/api/v1/pods?fieldSelector=spec.bogus%3Dx');
  assert.equal(bad.status, 400);
  const events = await api('GET', '/api/v1/events?fieldSelector=involvedObject.name%3Dx,involvedObject.kind%3DPod');
  assert.equal(events.status, 200);
});

test('discovery: /api, /apis, /api/v1, /apis/coordination.k8s.io/v1, /version', async () => {
  assert.deepEqual((await api('GET', '/api')).body.versions, ['v1']);
  const groups = (await api('GET', '/apis')).body.groups.map((g: any) => g.name);
  for (const g of ['coordination.k8s.io', 'node.k8s.io', 'events.k8s.io', 'authentication.k8s.io', 'authorization.k8s.io']) assert.ok(groups.includes(g), g);
  const core = (await api('GET', '/api/v1')).body.resources.map((r: any) => r.name);
  for (const r of ['pods', 'pods/status', 'pods/eviction', 'nodes', 'nodes/status', 'configmaps', 'secrets', 'events', 'namespaces', 'serviceaccounts/token']) assert.ok(core.includes(r), r);
  assert.equal((await api('GET', '/apis/coordination.k8s.io/v1')).body.resources[0].kind, 'Lease');
  assert.equal((await api('GET', '/version')).body.major, '1');
  assert.equal((await api('GET', '/apis/nope/v1')).status, 404);
});

test('built-in namespaces exist with a default service account and kube-root-ca.crt', async () => {
  for (const ns of ['default', 'kube-system', 'kube-node-lease']) {
    assert.equal((await api('GET', `/api/v1/namespaces/${ns}`)).body.status.phase, 'Active', ns);
    assert.equal((await api('GET', `/api/v1/namespaces/${ns}/serviceaccounts/default`)).status, 200, ns);
    assert.equal((await api('GET', `/api/v1/namespaces/${ns}/configmaps/kube-root-ca.crt`)).status, 200, ns);
  }
  const created = await api('POST', '/api/v1/namespaces', { metadata: { name: 'crud-ns' } });
  assert.equal(created.status, 201);
  assert.equal((await api('GET', '/api/v1/namespaces/crud-ns/serviceaccounts/default')).status, 200);
});

test('leases, runtimeclasses, events (core and events.k8s.io share storage)', async () => {
  const lease = await api('POST', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', { metadata: { name: 'n1' }, spec: { holderIdentity: 'n1', leaseDurationSeconds: 40 } });
  assert.equal(lease.status, 201);
  assert.equal(lease.body.apiVersion, 'coordination.k8s.io/v1');
  const badLease = await api('PUT', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1', { metadata: { name: 'n1' }, spec: { leaseDurationSeconds: 0 } });
  assert.equal(badLease.status, 422);
  const rc = await api('POST', '/apis/node.k8s.io/v1/runtimeclasses', { metadata: { name: 'lambda' }, handler: 'lambda' });
  assert.equal(rc.status, 201);
  const ev = await api('POST', '/apis/events.k8s.io/v1/namespaces/default/events', {
    metadata: { name: 'ev1' }, eventTime: '2025-01-01T00:00:00.000000Z', reportingController: 'burstlet', reportingInstance: 'n1',
    action: 'Started', reason: 'Started', type: 'Normal', note: 'hello', regarding: { kind: 'Pod', name: 'p', namespace: 'default' },
  });
  assert.equal(ev.status, 201, JSON.stringify(ev.body));
  assert.equal(ev.body.note, 'hello');
  const core = await api('GET', '/api/v1/namespaces/default/events/ev1');
  assert.equal(core.body.message, 'hello');
  assert.equal(core.body.involvedObject.name, 'p');
  const missing = await api('POST', '/apis/events.k8s.io/v1/namespaces/default/events', { metadata: { name: 'ev2' }, type: 'Normal' });
  assert.equal(missing.status, 422);
  const sel = await api('GET', '/api/v1/namespaces/default/events?fieldSelector=involvedObject.kind%3DPod,involvedObject.name%3Dp');
  assert.deepEqual(sel.body.items.map((e: any) => e.metadata.name), ['ev1']);
});

test('resourceVersion "0" in an update or patch is no precondition; in a create it is accepted', async () => {
  const created = await api('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'rv-zero', resourceVersion: '0' }, data: { a: '1' } });
  assert.equal(created.status, 201);
  const put = await api('PUT', '/api/v1/namespaces/default/configmaps/rv-zero', { metadata: { name: 'rv-zero', resourceVersion: '0' }, data: { a: '2' } });
  assert.equal(put.status, 200);
  const patch = await api('PATCH', '/api/v1/namespaces/default/configmaps/rv-zero', { metadata: { resourceVersion: '0' }, data: { a: '3' } }, 'application/merge-patch+json');
  assert.equal(patch.status, 200);
  assert.equal(patch.body.data.a, '3');
  const withRv = await api('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'rv-set', resourceVersion: '5' } });
  assert.equal(withRv.status, 500);
  assert.match(withRv.body.message, /resourceVersion should not be set on objects to be created/);
});

test('pod status: podIP fills podIPs (and hostIP hostIPs); invalid IPs are 422', async () => {
  await api('POST', PODS, pod('ips'));
  const res = await api('PATCH', `${PODS}/ips/status`, { status: { podIP: '10.0.0.7', hostIP: '192.168.1.2' } }, 'application/strategic-merge-patch+json');
  assert.deepEqual(res.body.status.podIPs, [{ ip: '10.0.0.7' }]);
  assert.deepEqual(res.body.status.hostIPs, [{ ip: '192.168.1.2' }]);
  const bad = await api('PATCH', `${PODS}/ips/status`, { status: { podIP: 'not-an-ip' } }, 'application/merge-patch+json');
  assert.equal(bad.status, 422);
  assert.match(bad.body.message, /status\.podIPs\[0\]\.ip: Invalid value: "not-an-ip": must be a valid IP address/);
});

test('pod status: a terminated container of a restartPolicy=Never pod may not run again', async () => {
  const terminated = { status: { containerStatuses: [{ name: 'c', ready: false, restartCount: 0, image: 'i', imageID: '', state: { terminated: { exitCode: 1, reason: 'Error' } } }] } };
  const running = { status: { containerStatuses: [{ name: 'c', ready: true, restartCount: 1, image: 'i', imageID: '', state: { running: { startedAt: '2025-01-01T00:00:00Z' } } }] } };
  await api('POST', PODS, { ...pod('never'), spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'i:1' }] } });
  await api('PATCH', `${PODS}/never/status`, terminated, 'application/merge-patch+json');
  const back = await api('PATCH', `${PODS}/never/status`, running, 'application/merge-patch+json');
  assert.equal(back.status, 422);
  assert.match(back.body.message, /status\.containerStatuses\[0\]\.state: Forbidden: may not be transitioned to non-terminated state/);
  await api('POST', PODS, pod('always'));
  await api('PATCH', `${PODS}/always/status`, terminated, 'application/merge-patch+json');
  assert.equal((await api('PATCH', `${PODS}/always/status`, running, 'application/merge-patch+json')).status, 200);
});

test('binding an already bound pod is 409; a continue token from before compaction is 410', async () => {
  await api('POST', PODS, pod('bound-twice'));
  assert.equal((await api('POST', `${PODS}/bound-twice/binding`, { target: { kind: 'Node', name: 'a' } })).status, 201);
  const again = await api('POST', `${PODS}/bound-twice/binding`, { target: { kind: 'Node', name: 'b' } });
  assert.equal(again.status, 409);
  assert.match(again.body.message, /is already assigned to node "a"/);
  const page = await api('GET', '/api/v1/namespaces/default/pods?limit=1');
  assert.ok(page.body.metadata.continue);
  await api('POST', PODS, pod('after-page'));
  s.compact();
  const stale = await api('GET', `/api/v1/namespaces/default/pods?limit=1&continue=${encodeURIComponent(page.body.metadata.continue)}`);
  assert.equal(stale.status, 410);
  assert.equal(stale.body.reason, 'Expired');
});

test('dryRun is refused with 501 instead of writing', async () => {
  const res = await api('POST', '/api/v1/namespaces/default/configmaps?dryRun=All', { metadata: { name: 'dry' } });
  assert.equal(res.status, 501);
  assert.equal((await api('GET', '/api/v1/namespaces/default/configmaps/dry')).status, 404);
});
