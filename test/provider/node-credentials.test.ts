import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startProvider, type Provider } from '../../provider/provider.ts';
import { silentLogger } from '../../src/log.ts';
import { startEnv, waitFor, type ProviderEnv, testNode } from './support/env.ts';
import { running, SimWorker, terminated } from './support/worker-sim.ts';

const NODE = 'vk-creds';
let env: ProviderEnv;
let provider: Provider;
let sim: SimWorker;

before(async () => {
  env = await startEnv({ tokens: { 'node-creds': { user: `system:node:${NODE}`, groups: ['system:nodes', 'system:authenticated'] } } });
  sim = new SimWorker(env.redis, env.keys, 'sim-creds');
  await sim.register();
  provider = await startProvider({
    kube: env.clientFor('node-creds'), redisUrl: env.redisServer.url, keyPrefix: env.keys.prefix, log: silentLogger(),
    node: testNode(NODE),
  });
});
after(async () => {
  await provider?.stop();
  await sim?.close();
  await env?.stop();
});

test('node credentials: secret env + service-account token via TokenRequest, status PATCHed, graceful delete — all as system:node (redis)', async () => {
  await env.kube.request('POST', '/api/v1/namespaces/default/secrets', { body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's1' }, stringData: { pw: 'hunter2' } } });
  const pod = await env.kube.request('POST', '/api/v1/namespaces/default/pods', {
    body: {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'creds-1' },
      spec: {
        nodeName: NODE, terminationGracePeriodSeconds: 300,
        containers: [{ name: 'c', image: 'busybox', env: [{ name: 'PW', valueFrom: { secretKeyRef: { name: 's1', key: 'pw' } } }] }],
        volumes: [{ name: 'tok', projected: { sources: [{ serviceAccountToken: { path: 'token', audience: 'vault', expirationSeconds: 3600 } }] } }],
      },
    },
  });
  const job = await sim.claim();
  assert.equal(job.uid, pod.metadata.uid);
  assert.deepEqual(job.containers[0]!.env!.find((e) => e.name === 'PW'), { name: 'PW', value: 'hunter2' });
  const tokVolume = job.volumes!.find((v) => v.name === 'tok')!;
  const token = Buffer.from(tokVolume.files![0]!.contentBase64, 'base64').toString();
  const review = await env.kube.request('POST', '/apis/authentication.k8s.io/v1/tokenreviews', {
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, audiences: ['vault'] } },
  });
  assert.equal(review.status.authenticated, true, JSON.stringify(review.status));
  assert.equal(review.status.user.username, 'system:serviceaccount:default:default');
  assert.deepEqual(review.status.user.extra?.['authentication.kubernetes.io/pod-uid'], [pod.metadata.uid], 'token bound to the pod');

  await sim.publish(job, { phase: 'Running', podIP: '10.0.0.3', containerStatuses: [running()] });
  await waitFor('Running', async () => (await env.kube.request('GET', '/api/v1/namespaces/default/pods/creds-1')).status.phase === 'Running');
  await env.kube.request('DELETE', '/api/v1/namespaces/default/pods/creds-1');
  await waitFor('stop', async () => (await sim.control()).some((m) => m.kind === 'stop' && m.uid === job.uid));
  await sim.publish(job, { phase: 'Failed', containerStatuses: [terminated('c', 143)] });
  await sim.complete(job.uid);
  await waitFor('pod deleted by the provider with its node identity', async () => {
    try {
      await env.kube.request('GET', '/api/v1/namespaces/default/pods/creds-1');
      return false;
    } catch (err: any) {
      return err.status === 404;
    }
  });
});
