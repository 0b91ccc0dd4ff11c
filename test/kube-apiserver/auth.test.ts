import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startKubeApiServer, type KubeApiServer } from '../support/kube-apiserver/index.ts';
import { call } from '../support/kube-apiserver/raw-client.ts';

let s: KubeApiServer;
const NODE = 'node-tok';
const OTHER = 'other-tok';
const READER = 'reader-tok';
const as = (token: string | undefined) => (method: string, path: string, body?: unknown, contentType?: string) => call(s.url, method, path, body, { token, contentType });
const admin = (method: string, path: string, body?: unknown, contentType?: string) => call(s.url, method, path, body, { token: s.token, contentType });
const node = as(NODE);
const SMP = 'application/strategic-merge-patch+json';

before(async () => {
  s = await startKubeApiServer({
    tokens: {
      [NODE]: { user: 'system:node:n1', groups: ['system:nodes'] },
      [OTHER]: { user: 'system:node:n2', groups: ['system:nodes'] },
      [READER]: { user: 'jane', groups: [] },
    },
    authorize: (a) => (a.user.user === 'jane' && a.verb === 'get' && a.resource === 'configmaps' ? true : undefined),
  });
  for (const n of ['n1', 'n2']) await admin('POST', '/api/v1/nodes', { metadata: { name: n } });
  const spec = (nodeName: string) => ({
    nodeName, containers: [{ name: 'c', image: 'i:1', env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'ref-secret', key: 'k' } } }] }],
    volumes: [{ name: 'v', configMap: { name: 'ref-cm' } }],
  });
  await admin('POST', '/api/v1/namespaces/default/pods', { metadata: { name: 'on-n1' }, spec: spec('n1') });
  await admin('POST', '/api/v1/namespaces/default/pods', { metadata: { name: 'on-n2' }, spec: { ...spec('n2'), volumes: [] } });
  for (const name of ['ref-secret', 'other-secret']) await admin('POST', '/api/v1/namespaces/default/secrets', { metadata: { name }, data: { k: 'dg==' } });
  for (const name of ['ref-cm', 'other-cm']) await admin('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name } });
});
after(() => s.stop());

test('a bad token is 401 Unauthorized; no token is system:anonymous (403 except /version and health)', async () => {
  const bad = await as('nope')('GET', '/api/v1/pods');
  assert.equal(bad.status, 401);
  assert.deepEqual(bad.body, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 });
  const anon = await as(undefined)('GET', '/api/v1/namespaces/default/pods');
  assert.equal(anon.status, 403);
  assert.equal(anon.body.message, 'pods is forbidden: User "system:anonymous" cannot list resource "pods" in API group "" in the namespace "default"');
  assert.equal((await as(undefined)('GET', '/version')).status, 200);
  assert.equal((await as(undefined)('GET', '/healthz')).body, 'ok');
});

test('addToken registers an identity at run time', async () => {
  assert.equal((await as('late-tok')('GET', '/api/v1/nodes/n1')).status, 401);
  s.addToken('late-tok', { user: 'system:node:n1', groups: ['system:nodes'] });
  assert.equal((await as('late-tok')('GET', '/api/v1/nodes/n1')).status, 200);
});

test('the authorize hook decides first', async () => {
  const reader = as(READER);
  assert.equal((await reader('GET', '/api/v1/namespaces/default/configmaps/other-cm')).status, 200);
  assert.equal((await reader('GET', '/api/v1/namespaces/default/secrets/other-secret')).status, 403);
});

test('node identity: PATCH nodes/status of its own node, but not GET of nodes/status, nor another node', async () => {
  const ok = await node('PATCH', '/api/v1/nodes/n1/status', { status: { conditions: [{ type: 'Ready', status: 'True' }] } }, SMP);
  assert.equal(ok.status, 200);
  const get = await node('GET', '/api/v1/nodes/n1/status');
  assert.equal(get.status, 403);
  assert.equal(get.body.message, 'nodes "n1" is forbidden: User "system:node:n1" cannot get resource "nodes/status" in API group "" at the cluster scope');
  assert.equal(get.body.details.kind, 'nodes');
  const other = await node('PATCH', '/api/v1/nodes/n2/status', { status: { conditions: [{ type: 'Ready', status: 'True' }] } }, SMP);
  assert.equal(other.status, 403);
  assert.match(other.body.message, /node "n1" is not allowed to modify node "n2"/);
  assert.equal((await node('GET', '/api/v1/nodes/n1')).status, 200);
  assert.equal((await node('GET', '/api/v1/nodes/n2')).status, 403);
  assert.equal((await node('GET', '/api/v1/nodes?fieldSelector=metadata.name%3Dn1')).status, 200);
});

test('NodeRestriction: a node may not set kubernetes.io labels outside the allowed set', async () => {
  const role = await node('PATCH', '/api/v1/nodes/n1', { metadata: { labels: { 'kubernetes.io/role': 'agent' } } }, SMP);
  assert.equal(role.status, 403);
  assert.match(role.body.message, /is not allowed to modify labels: kubernetes\.io\/role/);
  const fine = await node('PATCH', '/api/v1/nodes/n1', { metadata: { labels: { 'kubernetes.io/os': 'linux', 'node.kubernetes.io/exclude-from-external-load-balancers': '', type: 'virtual-kubelet' } } }, SMP);
  assert.equal(fine.status, 200);
  const fresh = await as(OTHER)('DELETE', '/api/v1/nodes/n2');
  assert.equal(fresh.status, 403, 'nodes cannot delete Node objects');
});

test('node identity: pods/status PATCH only for pods bound to it; GET pods/status forbidden', async () => {
  const ok = await node('PATCH', '/api/v1/namespaces/default/pods/on-n1/status', { status: { phase: 'Running' } }, SMP);
  assert.equal(ok.status, 200);
  const other = await node('PATCH', '/api/v1/namespaces/default/pods/on-n2/status', { status: { phase: 'Running' } }, SMP);
  assert.equal(other.status, 403);
  assert.match(other.body.message, /node "n1" can only update pod status for pods with spec.nodeName set to itself/);
  const get = await node('GET', '/api/v1/namespaces/default/pods/on-n1/status');
  assert.equal(get.status, 403);
  assert.equal(get.body.message, 'pods "on-n1" is forbidden: User "system:node:n1" cannot get resource "pods/status" in API group "" in the namespace "default"');
  assert.equal((await node('GET', '/api/v1/namespaces/default/pods/on-n1')).status, 200);
  assert.equal((await node('GET', '/api/v1/namespaces/default/pods/on-n2')).status, 403, 'only pods bound to it');
  assert.equal((await node('GET', '/api/v1/pods?fieldSelector=spec.nodeName%3Dn1')).status, 200);
  assert.equal((await node('GET', '/api/v1/pods')).status, 403, 'list needs the spec.nodeName selector');
  assert.equal((await node('DELETE', '/api/v1/namespaces/default/pods/on-n2')).status, 403);
});

test('node identity: only its own Lease in kube-node-lease', async () => {
  const lease = (name: string) => ({ metadata: { name }, spec: { holderIdentity: name, leaseDurationSeconds: 40 } });
  assert.equal((await node('POST', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', lease('n1'))).status, 201);
  const other = await node('POST', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', lease('n2'));
  assert.equal(other.status, 403);
  assert.match(other.body.message, /can only access node lease with the same name as the requesting node/);
  const cur = await node('GET', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1');
  assert.equal(cur.status, 200);
  assert.equal((await node('PUT', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1', { ...cur.body, spec: { ...cur.body.spec, renewTime: '2025-01-01T00:00:00.000000Z' } })).status, 200);
  assert.equal((await node('GET', '/apis/coordination.k8s.io/v1/namespaces/default/leases/n1')).status, 403);
});

test('node identity: secrets/configmaps only when referenced by a pod bound to it; events and runtimeclasses allowed', async () => {
  assert.equal((await node('GET', '/api/v1/namespaces/default/secrets/ref-secret')).status, 200);
  assert.equal((await node('GET', '/api/v1/namespaces/default/configmaps/ref-cm')).status, 200);
  const denied = await node('GET', '/api/v1/namespaces/default/secrets/other-secret');
  assert.equal(denied.status, 403);
  assert.match(denied.body.message, /no relationship found between node 'n1' and this object/);
  assert.equal((await node('GET', '/api/v1/namespaces/default/secrets')).status, 403);
  assert.equal((await as(OTHER)('GET', '/api/v1/namespaces/default/configmaps/ref-cm')).status, 403, 'n2 has no pod mounting ref-cm');
  const ev = await node('POST', '/api/v1/namespaces/default/events', { metadata: { name: 'n1-ev' }, involvedObject: { kind: 'Pod', name: 'on-n1', namespace: 'default' }, reason: 'Started', type: 'Normal' });
  assert.equal(ev.status, 201);
  assert.equal((await node('GET', '/apis/node.k8s.io/v1/runtimeclasses')).status, 200);
  assert.equal((await node('GET', '/api/v1/namespaces/default')).status, 403);
});

test('SubjectAccessReview evaluates the same rules', async () => {
  const review = (spec: unknown) => admin('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec });
  const node1 = { user: 'system:node:n1', groups: ['system:nodes', 'system:authenticated'] };
  const yes = await review({ ...node1, resourceAttributes: { verb: 'patch', resource: 'nodes', subresource: 'status', name: 'n1' } });
  assert.equal(yes.status, 201);
  assert.equal(yes.body.status.allowed, true);
  const no = await review({ ...node1, resourceAttributes: { verb: 'get', resource: 'nodes', subresource: 'status', name: 'n1' } });
  assert.equal(no.body.status.allowed, false);
  const proxy = await review({ user: 'nobody', groups: ['system:authenticated'], resourceAttributes: { verb: 'get', resource: 'nodes', subresource: 'proxy', name: 'n1' } });
  assert.equal(proxy.body.status.allowed, false);
  const adminReview = await review({ user: 'system:serviceaccount:kube-system:burstlet', resourceAttributes: { verb: 'get', resource: 'nodes', subresource: 'proxy', name: 'n1' } });
  assert.equal(adminReview.body.status.allowed, true);
});

test('TokenReview authenticates static tokens', async () => {
  const review = (token: string) => admin('POST', '/apis/authentication.k8s.io/v1/tokenreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } });
  const ok = await review(NODE);
  assert.equal(ok.status, 201);
  assert.equal(ok.body.status.authenticated, true);
  assert.equal(ok.body.status.user.username, 'system:node:n1');
  assert.deepEqual(ok.body.status.user.groups, ['system:nodes', 'system:authenticated']);
  const bad = await review('bogus');
  assert.equal(bad.body.status.authenticated, undefined);
  assert.ok(bad.body.status.error);
});

test('NodeRestriction: taints are fixed after registration; nodes create only mirror pods bound to themselves', async () => {
  const taint = await node('PATCH', '/api/v1/nodes/n1', { spec: { taints: [{ key: 'k', value: 'v', effect: 'NoSchedule' }] } }, SMP);
  assert.equal(taint.status, 403);
  assert.match(taint.body.message, /node "n1" is not allowed to modify taints/);
  const plain = await node('POST', '/api/v1/namespaces/default/pods', { metadata: { name: 'not-mirror' }, spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'i:1' }] } });
  assert.equal(plain.status, 403);
  assert.match(plain.body.message, /can only create mirror pods/);
  const mirror = await node('POST', '/api/v1/namespaces/default/pods', { metadata: { name: 'mirror', annotations: { 'kubernetes.io/config.mirror': 'x' } }, spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'i:1' }] } });
  assert.equal(mirror.status, 201);
});
