// The real @kubernetes/client-node 2.0.1 against the test API server: what the provider uses.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  ApiException, CoordinationV1Api, CoreV1Api, EventsV1Api, KubeConfig, ListWatch, NodeV1Api, PatchStrategy, V1MicroTime,
  VersionApi, Watch, makeInformer, setHeaderOptions, type V1ConfigMap, type V1Pod,
} from '@kubernetes/client-node';
import { startKubeApiServer, type KubeApiServer } from '../support/kube-apiserver/index.ts';

let s: KubeApiServer;
let kc: KubeConfig;
let core: CoreV1Api;
const patchAs = (type: string) => setHeaderOptions('Content-Type', type);
const podBody = (name: string, nodeName?: string): V1Pod => ({ metadata: { name }, spec: { nodeName, containers: [{ name: 'c', image: 'busybox:1.36' }] } });

async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function expectApiError(p: Promise<unknown>, code: number): Promise<any> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ApiException, String(err));
    assert.equal(err.code, code);
    return typeof err.body === 'string' ? JSON.parse(err.body) : err.body;
  }
  assert.fail(`expected HTTP ${code}`);
}

before(async () => {
  s = await startKubeApiServer({ bookmarkIntervalMs: 100 });
  kc = new KubeConfig();
  kc.loadFromString(s.kubeconfig);
  core = kc.makeApiClient(CoreV1Api);
});
after(() => s.stop());

test('KubeConfig.loadFromFile reads the written kubeconfig; /version works', async () => {
  const fromFile = new KubeConfig();
  fromFile.loadFromFile(s.kubeconfigPath);
  assert.equal(fromFile.getCurrentCluster()?.server, s.url);
  const version = await fromFile.makeApiClient(VersionApi).getCode();
  assert.equal(version.major, '1');
  const namespaces = await fromFile.makeApiClient(CoreV1Api).listNamespace();
  assert.ok(namespaces.items.some((n) => n.metadata?.name === 'kube-node-lease'));
});

test('CoreV1Api pods: create, read, list by spec.nodeName, 404 and 409 as ApiException', async () => {
  const created = await core.createNamespacedPod({ namespace: 'default', body: podBody('cn-a', 'vk-1') });
  assert.ok(created.metadata?.uid);
  assert.ok(created.metadata?.creationTimestamp instanceof Date);
  await core.createNamespacedPod({ namespace: 'default', body: podBody('cn-b', 'vk-2') });
  const list = await core.listPodForAllNamespaces({ fieldSelector: 'spec.nodeName=vk-1' });
  assert.deepEqual(list.items.map((p) => p.metadata?.name), ['cn-a']);
  assert.match(list.metadata?.resourceVersion ?? '', /^\d+$/);
  const missing = await expectApiError(core.readNamespacedPod({ namespace: 'default', name: 'nope' }), 404);
  assert.equal(missing.reason, 'NotFound');
  const stale = structuredClone(created);
  await core.patchNamespacedPod({ namespace: 'default', name: 'cn-a', body: { metadata: { labels: { a: 'b' } } } }, patchAs(PatchStrategy.MergePatch));
  stale.metadata!.labels = { a: 'c' };
  const conflict = await expectApiError(core.replaceNamespacedPod({ namespace: 'default', name: 'cn-a', body: stale }), 409);
  assert.equal(conflict.reason, 'Conflict');
  await expectApiError(core.createNamespacedPod({ namespace: 'default', body: podBody('cn-a') }), 409);
});

test('patch strategies through setHeaderOptions: strategic merge on pod status, merge and JSON patch on nodes', async () => {
  await core.createNamespacedPod({ namespace: 'default', body: podBody('cn-status', 'vk-1') });
  const running = await core.patchNamespacedPodStatus({
    namespace: 'default', name: 'cn-status',
    body: { status: { phase: 'Running', podIP: '10.0.0.5', conditions: [{ type: 'Ready', status: 'True' }] } },
  }, patchAs(PatchStrategy.StrategicMergePatch));
  assert.equal(running.status?.phase, 'Running');
  const again = await core.patchNamespacedPodStatus({
    namespace: 'default', name: 'cn-status', body: { status: { conditions: [{ type: 'ContainersReady', status: 'True' }] } },
  }, patchAs(PatchStrategy.StrategicMergePatch));
  assert.deepEqual(again.status?.conditions?.map((c) => c.type), ['Ready', 'ContainersReady']);
  await core.createNode({ body: { metadata: { name: 'vk-node' }, status: { capacity: { cpu: '4' } } } });
  const merged = await core.patchNodeStatus({ name: 'vk-node', body: { status: { capacity: { cpu: '8' } } } }, patchAs(PatchStrategy.MergePatch));
  assert.equal(merged.status?.capacity?.cpu, '8');
  const json = await core.patchNode({ name: 'vk-node', body: [{ op: 'add', path: '/metadata/labels', value: { type: 'virtual-kubelet' } }] });
  assert.equal(json.metadata?.labels?.type, 'virtual-kubelet', 'the default patch type is JSON patch');
});

test('graceful pod deletion through deleteNamespacedPod', async () => {
  const pod = await core.createNamespacedPod({ namespace: 'default', body: podBody('cn-del', 'vk-1') });
  const marked = await core.deleteNamespacedPod({ namespace: 'default', name: 'cn-del' });
  assert.ok(marked.metadata?.deletionTimestamp instanceof Date);
  assert.equal(marked.metadata?.deletionGracePeriodSeconds, 30);
  await core.deleteNamespacedPod({ namespace: 'default', name: 'cn-del', gracePeriodSeconds: 0, body: { preconditions: { uid: pod.metadata!.uid } } });
  await expectApiError(core.readNamespacedPod({ namespace: 'default', name: 'cn-del' }), 404);
});

test('CoordinationV1Api leases with V1MicroTime; a plain Date renewTime is rejected like the real apiserver', async () => {
  const leases = kc.makeApiClient(CoordinationV1Api);
  const lease = await leases.createNamespacedLease({
    namespace: 'kube-node-lease',
    body: { metadata: { name: 'vk-node' }, spec: { holderIdentity: 'vk-node', leaseDurationSeconds: 40, renewTime: new V1MicroTime() } },
  });
  assert.ok(lease.spec?.renewTime);
  lease.spec!.renewTime = new V1MicroTime(Date.now() + 1000);
  const renewed = await leases.replaceNamespacedLease({ namespace: 'kube-node-lease', name: 'vk-node', body: lease });
  assert.ok(Number(renewed.metadata?.resourceVersion) > Number(lease.metadata?.resourceVersion));
  renewed.spec!.renewTime = new Date() as V1MicroTime;
  const bad = await expectApiError(leases.replaceNamespacedLease({ namespace: 'kube-node-lease', name: 'vk-node', body: renewed }), 400);
  assert.match(bad.message, /as "2006-01-02T15:04:05\.000000Z07:00"/);
});

test('events through CoreV1Api and EventsV1Api; runtimeclasses through NodeV1Api', async () => {
  await core.createNamespacedEvent({ namespace: 'default', body: {
    metadata: { generateName: 'cn-a.' }, involvedObject: { kind: 'Pod', name: 'cn-a', namespace: 'default' },
    reason: 'Pulled', message: 'image pulled', type: 'Normal', source: { component: 'kubelet', host: 'vk-1' },
  } });
  const events = kc.makeApiClient(EventsV1Api);
  await events.createNamespacedEvent({ namespace: 'default', body: {
    metadata: { generateName: 'cn-a.' }, eventTime: new V1MicroTime(), reportingController: 'burstlet', reportingInstance: 'vk-1',
    action: 'Started', reason: 'Started', type: 'Normal', note: 'started', regarding: { kind: 'Pod', name: 'cn-a', namespace: 'default' },
  } });
  const listed = await core.listNamespacedEvent({ namespace: 'default', fieldSelector: 'involvedObject.name=cn-a' });
  assert.deepEqual(listed.items.map((e) => e.reason).sort(), ['Pulled', 'Started']);
  await kc.makeApiClient(NodeV1Api).createRuntimeClass({ body: { metadata: { name: 'lambda' }, handler: 'lambda' } });
  const rcs = await kc.makeApiClient(NodeV1Api).listRuntimeClass();
  assert.deepEqual(rcs.items.map((r) => r.handler), ['lambda']);
});

test('Watch streams ADDED/MODIFIED/DELETED and BOOKMARK events', async () => {
  const list = await core.listNamespacedConfigMap({ namespace: 'kube-public' });
  const seen: string[] = [];
  const controller = await new Watch(kc).watch('/api/v1/namespaces/kube-public/configmaps',
    { resourceVersion: list.metadata?.resourceVersion, allowWatchBookmarks: true },
    (type, obj) => seen.push(`${type}:${obj.metadata?.name ?? ''}`), () => {});
  try {
    await core.createNamespacedConfigMap({ namespace: 'kube-public', body: { metadata: { name: 'cn-w' } } });
    await core.patchNamespacedConfigMap({ namespace: 'kube-public', name: 'cn-w', body: { data: { a: '1' } } }, patchAs(PatchStrategy.MergePatch));
    await core.deleteNamespacedConfigMap({ namespace: 'kube-public', name: 'cn-w' });
    await eventually(() => seen.includes('DELETED:cn-w') && seen.includes('BOOKMARK:'), 'watch events');
    assert.deepEqual(seen.filter((e) => !e.startsWith('BOOKMARK')), ['ADDED:cn-w', 'MODIFIED:cn-w', 'DELETED:cn-w']);
  } finally {
    controller.abort();
  }
});

test('makeInformer caches objects and relists after 410 Gone', async () => {
  let lists = 0;
  const listFn = () => {
    lists++;
    return core.listNamespacedConfigMap({ namespace: 'kube-system' });
  };
  const informer = makeInformer<V1ConfigMap>(kc, '/api/v1/namespaces/kube-system/configmaps', listFn);
  const added: string[] = [];
  let connects = 0;
  informer.on('add', (o) => added.push(o.metadata!.name!));
  informer.on('connect', () => connects++);
  await informer.start();
  try {
    await core.createNamespacedConfigMap({ namespace: 'kube-system', body: { metadata: { name: 'inf-1' } } });
    await eventually(() => added.includes('inf-1'), 'informer add');
    s.compact();
    // Changes the informer has not seen yet, then a forced re-watch from its (now compacted) resourceVersion.
    await core.createNamespacedConfigMap({ namespace: 'kube-system', body: { metadata: { name: 'inf-2' } } });
    await eventually(() => added.includes('inf-2'), 'live event after compaction');
    // A write the informer does not watch moves the history past its last resourceVersion.
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'inf-elsewhere' } } });
    s.compact();
    s.closeWatches();
    await core.createNamespacedConfigMap({ namespace: 'kube-system', body: { metadata: { name: 'inf-3' } } });
    await eventually(() => informer.get('inf-3', 'kube-system') !== undefined, 'relist after 410', 20_000);
    assert.ok(connects >= 2, 'the informer reconnected');
    assert.equal(lists, 2, 'the 410 made the informer list again');
  } finally {
    await informer.stop();
  }
});

test('ListWatch with the spec.nodeName field selector sees pods bound later (the provider pattern)', async () => {
  const listFn = () => core.listPodForAllNamespaces({ fieldSelector: 'spec.nodeName=vk-lw' });
  const lw = new ListWatch<V1Pod>('/api/v1/pods', new Watch(kc), listFn, false, undefined, 'spec.nodeName=vk-lw');
  const events: string[] = [];
  lw.on('add', (p) => events.push(`add:${p.metadata!.name}`));
  lw.on('update', (p) => events.push(`update:${p.metadata!.name}:${p.metadata?.deletionTimestamp ? 'terminating' : 'live'}`));
  lw.on('delete', (p) => events.push(`delete:${p.metadata!.name}`));
  await lw.start();
  try {
    await core.createNamespacedPod({ namespace: 'default', body: podBody('lw-1') });
    await core.createNamespacedPodBinding({ namespace: 'default', name: 'lw-1', body: { metadata: { name: 'lw-1' }, target: { kind: 'Node', name: 'vk-lw' } } });
    await eventually(() => events.includes('add:lw-1'), 'add after binding');
    await core.deleteNamespacedPod({ namespace: 'default', name: 'lw-1' });
    await eventually(() => events.includes('update:lw-1:terminating'), 'terminating update');
    await core.deleteNamespacedPod({ namespace: 'default', name: 'lw-1', gracePeriodSeconds: 0 });
    await eventually(() => events.includes('delete:lw-1'), 'delete');
  } finally {
    await lw.stop();
  }
});
