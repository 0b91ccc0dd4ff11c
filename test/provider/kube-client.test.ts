import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeClient, resourceOf } from '../../provider/kube-client.ts';
import { createProviderMetrics } from '../../provider/metrics.ts';
import { startKubeApiServer, type KubeApiServer } from '../support/kube-apiserver/index.ts';

let api: KubeApiServer;
before(async () => {
  api = await startKubeApiServer();
});
after(() => api?.stop());

const client = (qps: number, burst: number, eventQps = 50) => {
  const config = new KubeConfig();
  config.loadFromString(api.kubeconfig);
  return new KubeClient({ config, qps, burst, eventQps, eventBurst: 1 });
};

test('resourceOf: resource and subresource of API paths', () => {
  assert.equal(resourceOf('/api/v1/namespaces/default/pods/p/status'), 'pods/status');
  assert.equal(resourceOf('/api/v1/pods?fieldSelector=x'), 'pods');
  assert.equal(resourceOf('/api/v1/namespaces/ns/serviceaccounts/default/token'), 'serviceaccounts/token');
  assert.equal(resourceOf('/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n'), 'leases');
  assert.equal(resourceOf('/api/v1/namespaces'), 'namespaces');
  assert.equal(resourceOf('/api/v1/namespaces/default'), 'namespaces');
  assert.equal(resourceOf('/api/v1/nodes/n/status'), 'nodes/status');
});

test('budgets: heartbeats are never throttled and Events have their own bucket (test API server)', async () => {
  // One token a minute: once the main bucket is empty, only what bypasses it can go.
  const kube = client(1 / 60, 1, 1 / 60);
  const metrics = createProviderMetrics({ processMetrics: false });
  kube.instrument(metrics);
  try {
    await kube.request('GET', '/api/v1/namespaces/default');
    assert.equal(kube.limiter.tryTake(), false, 'main bucket empty');
    await kube.request('GET', '/api/v1/nodes', { budget: 'heartbeat' });
    const ev = { apiVersion: 'v1', kind: 'Event', metadata: { name: 'e1', namespace: 'default' }, involvedObject: { kind: 'Pod', namespace: 'default', name: 'x' }, reason: 'R', message: 'm', type: 'Normal' };
    await kube.request('POST', '/api/v1/namespaces/default/events', { body: ev, budget: 'event' });
    assert.equal(kube.eventLimiter.tryTake(), false, 'the Event took the Event bucket’s token');
    const counts = (await metrics.kubeRequests.get()).values.map((v) => `${v.labels.verb} ${v.labels.resource} ${v.labels.code}=${v.value}`).sort();
    assert.deepEqual(counts, ['GET namespaces 2xx=1', 'GET nodes 2xx=1', 'POST events 2xx=1']);
  } finally {
    kube.close();
  }
});

test('a lazy body is built when the token is granted; undefined cancels the request (test API server)', async () => {
  const kube = client(1000, 1000);
  try {
    let built = 0;
    const body = () => (built++, { metadata: { labels: { lazy: 'yes' } } });
    const ns = await kube.request('PATCH', '/api/v1/namespaces/default', { body, patch: 'merge' });
    assert.equal(ns.metadata.labels.lazy, 'yes');
    assert.equal(built, 1);
    const none = await kube.request('PATCH', '/api/v1/namespaces/default', { body: () => undefined, patch: 'merge' });
    assert.equal(none, undefined);
  } finally {
    kube.close();
  }
});
