import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { LeaseController } from '../../provider/lease-controller.ts';
import { NodeController } from '../../provider/node-controller.ts';
import type { NodeSettings } from '../../provider/node-status.ts';
import { liveWorkers } from '../../provider/worker-pool.ts';
import { silentLogger } from '../../src/log.ts';
import { registerWorker, startEnv, testNode, waitFor, type ProviderEnv } from './support/env.ts';

let env: ProviderEnv;
before(async () => {
  env = await startEnv({ tokens: { 'node-tok': { user: 'system:node:vk-node', groups: ['system:nodes', 'system:authenticated'] } } });
});
after(() => env.stop());

const settings = (nodeName: string): NodeSettings => testNode(nodeName, { address: '10.0.0.5', burst: { cpuMillis: 1000, memoryBytes: 2 ** 30, pods: 10 } });

const condition = (node: any, type: string) => node.status.conditions.find((c: any) => c.type === type);

test('node: registered with labels, taint, capacity = workers + burst; Ready follows live workers; others\' conditions survive (redis)', async (t) => {
  const log = silentLogger();
  const node = new NodeController({ kube: env.kube, settings: settings('vk-a'), workers: () => liveWorkers(env.redis, env.keys), checkIntervalMs: 50, log });
  t.after(() => node.stop());
  await node.start();
  let n = await env.kube.request('GET', '/api/v1/nodes/vk-a');
  assert.equal(n.metadata.labels.type, 'virtual-kubelet');
  assert.equal(n.metadata.labels['kubernetes.io/role'], 'agent');
  assert.equal(n.metadata.labels['kubernetes.io/hostname'], 'vk-a');
  assert.deepEqual(n.spec.taints, [{ key: 'virtual-kubelet.io/provider', value: 'burstlet', effect: 'NoSchedule' }]);
  assert.equal(condition(n, 'Ready').status, 'False');
  assert.equal(n.status.capacity.cpu, '1');
  assert.equal(n.status.daemonEndpoints.kubeletEndpoint.Port, 10250);
  assert.match(n.status.nodeInfo.kubeletVersion, /^v1\.\d+\.\d+-burstlet-0\.1\.0$/);
  assert.equal(n.status.nodeInfo.containerRuntimeVersion, 'burstlet://0.1.0');
  assert.deepEqual(n.status.addresses.map((a: any) => a.type), ['InternalIP', 'Hostname']);

  // A condition written by someone else (e.g. a node-problem-detector) must survive our patches.
  await env.kube.request('PATCH', '/api/v1/nodes/vk-a/status', { patch: 'strategic', body: { status: { conditions: [{ type: 'KernelDeadlock', status: 'False', reason: 'KernelHasNoDeadlock' }] } } });

  await registerWorker(env.redis, env.keys, { id: 'w1', allocatable: { cpuMillis: 2000, memoryBytes: 4 * 2 ** 30, pods: 20, ephemeralStorageBytes: 0 } });
  n = await waitFor('Ready=True', async () => {
    const x = await env.kube.request('GET', '/api/v1/nodes/vk-a');
    return condition(x, 'Ready').status === 'True' && x;
  });
  assert.equal(n.status.capacity.cpu, '3');
  assert.equal(n.status.capacity.memory, '5Gi');
  assert.equal(n.status.capacity.pods, '30');
  assert.ok(condition(n, 'KernelDeadlock'), 'foreign condition kept');

  await env.redis.del(env.keys.worker('w1'));
  n = await waitFor('Ready=False', async () => {
    const x = await env.kube.request('GET', '/api/v1/nodes/vk-a');
    return condition(x, 'Ready').status === 'False' && x;
  });
  assert.equal(condition(n, 'Ready').reason, 'NoLiveWorkers');
  assert.ok(condition(n, 'KernelDeadlock'), 'foreign condition still kept');
  assert.equal(await env.redis.sismember(env.keys.workers('default'), 'w1'), 0, 'expired worker pruned from the pool set');
});

test('lease: created in kube-node-lease with owner reference to the Node and renewed (redis)', async (t) => {
  const log = silentLogger();
  const node = new NodeController({ kube: env.kube, settings: settings('vk-b'), workers: async () => [], log });
  t.after(() => node.stop());
  await node.start();
  const lease = new LeaseController({ kube: env.kube, nodeName: 'vk-b', nodeUid: () => node.uid, renewIntervalMs: 50, log });
  t.after(() => lease.stop());
  await lease.start();
  const first = await env.kube.request('GET', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/vk-b');
  assert.equal(first.spec.holderIdentity, 'vk-b');
  assert.equal(first.spec.leaseDurationSeconds, 40);
  assert.deepEqual(first.metadata.ownerReferences.map((r: any) => [r.kind, r.name, r.uid]), [['Node', 'vk-b', node.uid]]);
  const renewed = await waitFor('lease renewed', async () => {
    const l = await env.kube.request('GET', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/vk-b');
    return l.spec.renewTime !== first.spec.renewTime && l;
  });
  assert.ok(Number(renewed.metadata.resourceVersion) > Number(first.metadata.resourceVersion));
  // Someone else bumps the lease: the next renewal resolves the conflict and keeps going.
  await env.kube.request('PATCH', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/vk-b', { patch: 'merge', body: { metadata: { labels: { x: 'y' } } } });
  const count = lease.renewals;
  await waitFor('renewals continue after a conflict', () => lease.renewals > count + 2);
});

test('node + lease work under node credentials (system:node:<name>, NodeRestriction) (redis)', async (t) => {
  const log = silentLogger();
  const kube = env.clientFor('node-tok');
  const node = new NodeController({ kube, settings: settings('vk-node'), workers: () => liveWorkers(env.redis, env.keys), log });
  t.after(() => node.stop());
  await node.start();
  const lease = new LeaseController({ kube, nodeName: 'vk-node', nodeUid: () => node.uid, log });
  t.after(() => lease.stop());
  await lease.start();
  const n = await env.kube.request('GET', '/api/v1/nodes/vk-node');
  assert.equal(n.metadata.labels.type, 'virtual-kubelet');
  assert.ok(condition(n, 'Ready'));
  assert.equal(lease.renewals, 1);
  await assert.rejects(kube.request('GET', '/api/v1/nodes/vk-node/status'), (err: any) => err.status === 403, 'the test server must refuse GET nodes/status to a node, so PATCH-only is exercised');
});
