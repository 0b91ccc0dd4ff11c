import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createProviderMetrics } from '../../provider/metrics.ts';
import { startProvider, type Provider } from '../../provider/provider.ts';
import { PodQueues } from '../../provider/queue.ts';
import { silentLogger } from '../../src/log.ts';
import { startEnv, waitFor, type ProviderEnv, testNode } from './support/env.ts';
import { running, SimWorker, terminated } from './support/worker-sim.ts';

let env: ProviderEnv;
let provider: Provider;
let sim: SimWorker;
const NODE = 'vk-pods';
const metrics = createProviderMetrics({ processMetrics: false });

before(async () => {
  env = await startEnv();
  sim = new SimWorker(env.redis, env.keys, 'sim-1');
  await sim.register();
  provider = await startProvider({
    kube: env.kube, redisUrl: env.redisServer.url, keyPrefix: env.keys.prefix, log: silentLogger(), configRetryMs: 100, workerCheckMs: 100, deletionSlackMs: 500, metrics, metricsIntervalMs: 50,
    node: testNode(NODE),
  });
});
after(async () => {
  await provider?.stop();
  await sim?.close();
  await env?.stop();
});

const createPod = (name: string, spec: Record<string, unknown> = {}) => env.kube.request('POST', '/api/v1/namespaces/default/pods', {
  body: { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { nodeName: NODE, containers: [{ name: 'c', image: 'busybox:1.36', command: ['sleep', '1'] }], ...spec } },
});
const getPod = (name: string) => env.kube.request('GET', `/api/v1/namespaces/default/pods/${name}`);
const podGone = async (name: string) => {
  try {
    await getPod(name);
    return false;
  } catch (err: any) {
    return err.status === 404;
  }
};
const podEvents = async (name: string) => (await env.kube.request('GET', '/api/v1/namespaces/default/events')).items.filter((e: any) => e.involvedObject.name === name);
const queues = () => new PodQueues(env.redis, env.keys);

test('pod: enqueued once with jobId = UID, Running with podIP from worker events, then Succeeded; notes become kubelet Events (redis)', async () => {
  const pod = await createPod('run-1', { readinessGates: [{ conditionType: 'example.com/gate' }] });
  // A condition another controller owns (a readiness gate) must survive our status writes.
  await env.kube.request('PATCH', '/api/v1/namespaces/default/pods/run-1/status', { patch: 'strategic', body: { status: { conditions: [{ type: 'example.com/gate', status: 'True' }] } } });
  const job = await sim.claim();
  assert.equal(job.uid, pod.metadata.uid);
  assert.equal(job.name, 'run-1');
  assert.equal(job.containers[0]!.image, 'busybox:1.36');
  const started = new Date().toISOString();
  await sim.publish(job, {
    phase: 'Running', podIP: '10.88.0.7', hostIP: '192.168.1.2', startTime: started,
    conditions: [{ type: 'Ready', status: 'True' }, { type: 'ContainersReady', status: 'True' }, { type: 'Initialized', status: 'True' }],
    containerStatuses: [running('c', started)],
    notes: [
      { type: 'Normal', reason: 'Pulled', message: 'Container image "busybox:1.36" already present on machine', container: 'c', at: Date.now() },
      { type: 'Normal', reason: 'Started', message: 'Started container c', container: 'c', at: Date.now() },
    ],
  });
  const runningPod = await waitFor('Running', async () => ((await getPod('run-1')).status.phase === 'Running' ? getPod('run-1') : false));
  assert.equal(runningPod.status.podIP, '10.88.0.7');
  assert.deepEqual(runningPod.status.podIPs, [{ ip: '10.88.0.7' }]);
  assert.equal(runningPod.status.containerStatuses[0].state.running.startedAt, started);
  assert.ok(runningPod.status.conditions.some((c: any) => c.type === 'example.com/gate'), 'a condition written by others survives');
  assert.equal(runningPod.status.conditions.find((c: any) => c.type === 'Ready').status, 'True');
  // A stale or repeated snapshot changes nothing.
  await sim.publish(job, { phase: 'Pending', seq: 1 });
  await sim.publish(job, { phase: 'Succeeded', containerStatuses: [terminated('c', 0)], notes: [{ type: 'Normal', reason: 'Killing', message: 'x', at: Date.now() }] });
  const done = await waitFor('Succeeded', async () => ((await getPod('run-1')).status.phase === 'Succeeded' ? getPod('run-1') : false));
  assert.equal(done.status.containerStatuses[0].state.terminated.exitCode, 0);
  const events = await waitFor('3 events', async () => ((await podEvents('run-1')).length >= 3 ? podEvents('run-1') : false));
  const started1 = events.find((e: any) => e.reason === 'Started');
  assert.equal(started1.source.component, 'kubelet');
  assert.equal(started1.source.host, NODE);
  assert.equal(started1.involvedObject.fieldPath, 'spec.containers{c}');
  assert.equal(started1.involvedObject.uid, pod.metadata.uid);
  // The job stays single: re-kicking the pod (an update) does not enqueue it again.
  await env.kube.request('PATCH', '/api/v1/namespaces/default/pods/run-1', { patch: 'merge', body: { metadata: { labels: { touched: 'yes' } } } });
  await new Promise((r) => setTimeout(r, 200));
  const q = queues();
  assert.deepEqual((await q.jobIds('default')).filter((id) => id === pod.metadata.uid).length, 1);
  await q.close();
  await sim.complete(job.uid);
});

test('pod: a missing configMap → CreateContainerConfigError + Event, retried until it exists (redis)', async () => {
  await createPod('cfg-1', { containers: [{ name: 'c', image: 'busybox', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'later', key: 'k' } } }] }] });
  const waiting = await waitFor('CreateContainerConfigError', async () => {
    const p = await getPod('cfg-1');
    return p.status.containerStatuses?.[0]?.state?.waiting?.reason === 'CreateContainerConfigError' && p;
  });
  assert.match(waiting.status.containerStatuses[0].state.waiting.message, /configmap "later" not found/);
  assert.equal(waiting.status.phase, 'Pending');
  const ev = await waitFor('Failed event', async () => (await podEvents('cfg-1')).find((e: any) => e.reason === 'Failed'));
  assert.equal(ev.type, 'Warning');
  await env.kube.request('POST', '/api/v1/namespaces/default/configmaps', { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'later' }, data: { k: 'v' } } });
  const job = await sim.claim();
  assert.equal(job.name, 'cfg-1');
  assert.deepEqual(job.containers[0]!.env!.find((e) => e.name === 'X'), { name: 'X', value: 'v' });
  await waitFor('the config error is cleared once enqueued', async () => (await getPod('cfg-1')).status.containerStatuses[0].state.waiting?.reason === 'ContainerCreating');
  await sim.complete(job.uid);
});

test('pod: an unsupported feature fails the pod with the reason and a Warning Event (redis)', async () => {
  await createPod('pvc-1', { volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'x' } }] });
  const p = await waitFor('Failed', async () => ((await getPod('pvc-1')).status.phase === 'Failed' ? getPod('pvc-1') : false));
  assert.equal(p.status.reason, 'UnsupportedPodSpec');
  assert.match(p.status.message, /persistentVolumeClaim/);
  const ev = await waitFor('event', async () => (await podEvents('pvc-1')).find((e: any) => e.reason === 'UnsupportedPodSpec'));
  assert.equal(ev.type, 'Warning');
});

test('deletion: a queued pod is removed from the queue and deleted at once (redis)', async () => {
  const pod = await createPod('queued-1', { terminationGracePeriodSeconds: 600 });
  const q = queues();
  await waitFor('enqueued', async () => (await q.locate(pod.metadata.uid, ['default'])).state === 'waiting');
  await env.kube.request('DELETE', '/api/v1/namespaces/default/pods/queued-1');
  await waitFor('pod gone', () => podGone('queued-1'));
  assert.equal((await q.locate(pod.metadata.uid, ['default'])).state, 'missing');
  await q.close();
});

test('deletion: a running pod gets stop with its grace period and is deleted as soon as its containers exit (redis)', async () => {
  const pod = await createPod('del-1', { terminationGracePeriodSeconds: 600 });
  const job = await sim.claim();
  assert.equal(job.uid, pod.metadata.uid);
  await sim.publish(job, { phase: 'Running', podIP: '10.88.0.9', containerStatuses: [running()] });
  await waitFor('Running', async () => (await getPod('del-1')).status.phase === 'Running');
  await env.redis.xadd(env.keys.logs(job.uid, 'c'), '*', 'm', '{}');
  await env.redis.set(env.keys.podStatuses(job.uid), '{}'); // as a worker's reporter leaves it
  await env.kube.request('DELETE', '/api/v1/namespaces/default/pods/del-1', { body: { gracePeriodSeconds: 600 } });
  const stop = await waitFor('stop message', async () => (await sim.control()).find((m) => m.kind === 'stop' && m.uid === job.uid));
  assert.deepEqual(stop, { kind: 'stop', uid: job.uid, gracePeriodSeconds: 600, reason: 'pod deleted' });
  assert.equal(await podGone('del-1'), false, 'not deleted before the containers exit');
  await sim.publish(job, { phase: 'Running', containerStatuses: [terminated('c', 137)] });
  await sim.complete(job.uid);
  await waitFor('pod gone long before its 600 s grace period', () => podGone('del-1'));
  const q = queues();
  await waitFor('job removed once the pod is gone', async () => (await q.locate(job.uid, ['default'])).state === 'missing');
  await waitFor('per-pod keys dropped', async () => (await env.redis.exists(env.keys.podSeq(job.uid), env.keys.logs(job.uid, 'c'), env.keys.podStatuses(job.uid), env.keys.podWorker(job.uid))) === 0);
  assert.equal(await env.redis.hexists(env.keys.appliedSeq, job.uid), 0);
  await q.close();
});

test('deletion: a worker that never reports is given its grace period, then the pod is deleted anyway (redis)', async () => {
  const pod = await createPod('silent-1', { terminationGracePeriodSeconds: 1 });
  const job = await sim.claim();
  assert.equal(job.uid, pod.metadata.uid);
  await sim.publish(job, { phase: 'Running', containerStatuses: [running()] });
  await waitFor('Running', async () => (await getPod('silent-1')).status.phase === 'Running');
  await env.kube.request('DELETE', '/api/v1/namespaces/default/pods/silent-1');
  await waitFor('stop sent', async () => (await sim.control()).some((m) => m.kind === 'stop' && m.uid === job.uid));
  await waitFor('deleted after grace + slack although the worker stayed silent', () => podGone('silent-1'));
  await sim.complete(job.uid);
});

test('status sync: a redelivered snapshot records its notes once; a malformed message goes to dead-letter (redis)', async () => {
  await createPod('dup-1');
  const job = await sim.claim();
  const note = { type: 'Warning' as const, reason: 'BackOff', message: 'Back-off restarting failed container c', container: 'c', at: Date.now() };
  const seq = await env.redis.incr(env.keys.podSeq(job.uid));
  await sim.publish(job, { phase: 'Running', seq, containerStatuses: [running()], notes: [note] });
  await sim.publish(job, { phase: 'Running', seq, containerStatuses: [running()], notes: [note] });
  await env.redis.xadd(env.keys.events, '*', 'm', '{"uid": 42}');
  await waitFor('Running', async () => (await getPod('dup-1')).status.phase === 'Running');
  await waitFor('dead-lettered', async () => (await env.redis.xlen(env.keys.deadLetter)) >= 1);
  await sim.publish(job, { phase: 'Succeeded', containerStatuses: [terminated()] });
  await waitFor('Succeeded', async () => (await getPod('dup-1')).status.phase === 'Succeeded');
  // Events are written in the background (they never hold up status): wait for the first.
  const backoffs = await waitFor('BackOff event', async () => {
    const evs = (await podEvents('dup-1')).filter((e: any) => e.reason === 'BackOff');
    return evs.length ? evs : false;
  });
  assert.equal(backoffs.length, 1, 'one Event for the same (pod, seq, note)');
  assert.equal(backoffs[0].type, 'Warning');
  await sim.complete(job.uid);
});

test('pod: no live worker fits → an "Insufficient cpu" Warning Event, the pod stays queued (redis)', async () => {
  await createPod('big-1', { containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu: '64' } } }] });
  const ev = await waitFor('fit event', async () => (await podEvents('big-1')).find((e: any) => e.reason === 'OutOfResources'));
  assert.match(ev.message, /Insufficient cpu/);
  await env.kube.request('DELETE', '/api/v1/namespaces/default/pods/big-1');
  await waitFor('pod gone', () => podGone('big-1'));
});

test('metrics: pods by phase, queue depth per pool, live workers, status writes and start latency (redis)', async () => {
  const sample = async (name: string, labels: Record<string, string>) => {
    const m = (await metrics.registry.getMetricsAsJSON()).find((x) => x.name === name);
    return m?.values.find((v) => Object.entries(labels).every(([k, val]) => String(v.labels[k]) === val))?.value;
  };
  await createPod('metrics-1');
  const job = await sim.claim();
  await sim.publish(job, { phase: 'Running', containerStatuses: [running()] });
  await waitFor('Running', async () => (await getPod('metrics-1')).status.phase === 'Running');
  await sim.publish(job, { phase: 'Succeeded', containerStatuses: [terminated()] });
  await sim.complete(job.uid);
  await waitFor('pods by phase', async () => ((await sample('burstlet_pods', { phase: 'Succeeded' })) ?? 0) >= 1);
  await waitFor('live workers', async () => (await sample('burstlet_workers_live', { pool: 'default' })) === 1);
  await waitFor('completed jobs counted', async () => ((await sample('burstlet_queue_jobs', { pool: 'default', state: 'completed' })) ?? 0) >= 1);
  const applied = await sample('burstlet_pod_events_total', { result: 'applied' });
  assert.ok((applied ?? 0) >= 2, `applied events: ${applied}`);
  const starts = (await metrics.registry.getMetricsAsJSON()).find((x) => x.name === 'burstlet_pod_start_seconds');
  assert.ok(starts?.values.some((v) => (v as { metricName?: string }).metricName === 'burstlet_pod_start_seconds_count' && v.value >= 1), 'start latency observed');
});
