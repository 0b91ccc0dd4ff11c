// Projected service-account tokens of running pods are refreshed at 80 % of their lifetime and
// sent to the worker running the pod (`token` control message), with the test API server (its
// test-only minTokenExpirationSeconds lowered so lifetimes of seconds are allowed) and redis.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startProvider, type Provider } from '../../provider/provider.ts';
import { silentLogger } from '../../src/log.ts';
import type { TokenRefresh } from '../../src/schema/control.ts';
import type { PodJob } from '../../src/schema/pod-job.ts';
import { startEnv, waitFor, type ProviderEnv, testNode } from './support/env.ts';
import { running, SimWorker, terminated } from './support/worker-sim.ts';

const NODE = 'vk-tokens';
const LIFETIME = 4;
let env: ProviderEnv;
before(async () => {
  env = await startEnv({ minTokenExpirationSeconds: 1 });
});
after(() => env.stop());

const start = (): Promise<Provider> => startProvider({
  kube: env.kube, redisUrl: env.redisServer.url, keyPrefix: env.keys.prefix, log: silentLogger(),
  node: testNode(NODE),
});

const createPod = (name: string) => env.kube.request('POST', '/api/v1/namespaces/default/pods', {
  body: {
    apiVersion: 'v1', kind: 'Pod', metadata: { name },
    spec: {
      nodeName: NODE, restartPolicy: 'Never',
      containers: [{ name: 'c', image: 'busybox', command: ['sleep', '600'], volumeMounts: [{ name: 'vault-token', mountPath: '/var/run/vault' }] }],
      volumes: [{ name: 'vault-token', projected: { defaultMode: 0o440, sources: [{ serviceAccountToken: { path: 'token', audience: 'vault', expirationSeconds: LIFETIME } }] } }],
    },
  },
});

/** The token file a PodJob carries for a volume. */
const jobToken = (job: PodJob, volume: string) => Buffer.from(job.volumes!.find((v) => v.name === volume)!.files![0]!.contentBase64, 'base64').toString();
const tokenMessages = async (sim: SimWorker, volume?: string) => (await sim.control()).filter((m): m is TokenRefresh => m.kind === 'token' && (!volume || m.volume === volume));
const claims = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());

/** Asserts the token is one the test API server issued through TokenRequest, bound to the pod. */
function assertIssuedFor(token: string, pod: any, audience: string) {
  const c = env.api.issuer.verify(token, claims(token).iat);
  assert.ok(c, 'signed by the API server');
  assert.deepEqual(c['kubernetes.io'].pod, { name: pod.metadata.name, uid: pod.metadata.uid });
  assert.deepEqual(c.aud, [audience]);
  return c;
}

test('a running pod gets a new token at 80 % of its lifetime, sent to its worker; none once it has ended (kube test server, redis)', async (t) => {
  const provider = await start();
  const sim = new SimWorker(env.redis, env.keys, 'w-tok-1');
  t.after(async () => {
    await provider.stop();
    await sim.close();
  });
  await sim.register();
  const pod = await createPod('tok-run');
  const job = await sim.claim();
  const first = jobToken(job, 'vault-token');
  const c0 = assertIssuedFor(first, pod, 'vault');
  assert.equal(c0.exp - c0.iat, LIFETIME);
  await sim.publish(job, { phase: 'Running', containerStatuses: [running('c')] });

  const [refresh] = await waitFor('a refreshed token sent to the worker', async () => {
    const m = await tokenMessages(sim, 'vault-token');
    return m.length ? m : undefined;
  });
  assert.equal(refresh!.uid, pod.metadata.uid);
  assert.equal(refresh!.path, 'token');
  assert.notEqual(refresh!.token, first);
  const c1 = assertIssuedFor(refresh!.token, pod, 'vault');
  assert.ok(c1.iat >= c0.iat + 0.8 * LIFETIME - 1, `refreshed near 80 % of the lifetime (iat ${c0.iat} → ${c1.iat})`);
  assert.ok(refresh!.expiresAt > c0.exp * 1000);
  assert.ok(!(await tokenMessages(sim)).some((m) => m.volume.startsWith('kube-api-access')), 'the hour-long API token is not due: not sent');

  // Refreshing goes on as long as the pod runs.
  await waitFor('a second refresh', async () => (await tokenMessages(sim, 'vault-token')).length >= 2);
  await sim.publish(job, { phase: 'Succeeded', containerStatuses: [terminated('c')] });
  await waitFor('pod no longer tracked once it has ended', () => !provider.tokens.tracked().includes(pod.metadata.uid));
});

test('after a provider restart the tokens handed out are unknown: refreshed at once and sent; a pod that waited in the queue past 80 % gets fresh ones when its worker reports it (kube test server, redis)', async (t) => {
  const sim = new SimWorker(env.redis, env.keys, 'w-tok-2');
  t.after(() => sim.close());
  await sim.register();
  let provider = await start();
  t.after(() => provider.stop());
  const pod = await createPod('tok-restart');
  const job = await sim.claim();
  await sim.publish(job, { phase: 'Running', containerStatuses: [running('c')] });
  await waitFor('pod tracked', () => provider.tokens.tracked().includes(pod.metadata.uid));
  await provider.stop();
  const before = (await tokenMessages(sim)).length;
  provider = await start();
  const sent = await waitFor('both tokens of the pod sent after the restart', async () => {
    const m = (await tokenMessages(sim)).slice(before);
    return m.some((x) => x.volume === 'vault-token') && m.some((x) => x.volume.startsWith('kube-api-access')) ? m : undefined;
  });
  const api = sent.find((m) => m.volume.startsWith('kube-api-access'))!;
  assert.notEqual(api.token, jobToken(job, api.volume));
  const c = env.api.issuer.verify(api.token);
  assert.deepEqual(c?.['kubernetes.io'].pod, { name: pod.metadata.name, uid: pod.metadata.uid });

  // A pod still queued when its token is due: its first worker gets a fresh one.
  const sim3 = new SimWorker(env.redis, env.keys, 'w-tok-3');
  t.after(() => sim3.close());
  const queued = await createPod('tok-queued');
  const queuedUid: string = queued.metadata.uid;
  const { Queue } = await import('bullmq');
  const queue = new Queue(env.keys.queue('default'), { connection: { url: env.redisServer.url }, prefix: env.keys.prefix });
  t.after(() => queue.close());
  const queuedJob = await waitFor('the pod waits in the queue', async () => queue.getJob(queuedUid));
  const data = queuedJob.data as PodJob;
  const old = claims(jobToken(data, 'vault-token'));
  await waitFor('the token in the job is past 80 % of its lifetime', () => Date.now() / 1000 > old.iat + 0.8 * LIFETIME + 0.5);
  const claimed = await sim3.claim();
  assert.equal(claimed.uid, queuedUid);
  await sim3.publish(claimed, { phase: 'Pending' });
  const fresh = await waitFor('a fresh token sent to the worker that claimed the pod', async () => (await tokenMessages(sim3, 'vault-token'))[0]);
  assert.notEqual(fresh.token, jobToken(claimed, 'vault-token'));
  assertIssuedFor(fresh.token, queued, 'vault');
});
