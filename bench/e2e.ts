// `npm run bench -- e2e [N=200] [qps=50] [burst=2×qps] [host|bridge]`: the whole chain on
// this machine — the embedded Kubernetes API server (test/support/kube-apiserver), redis,
// the local registry (busybox as docker.io's library/busybox), `burstlet provider` as a child
// process (plain HTTP kubeconfig, --no-tls --no-authentication, loopback) and one `burstlet
// worker` child (runtime burstlet; network host by default, which keeps CNI out of the
// figure; `bridge` puts every pod on the CNI bridge).
// After one pod pre-pulls busybox, N pods (busybox `sleep 3600`, restartPolicy Never, small
// requests) are created at once through the API server:
//  - create → Running as seen on a watch: p50/p99, pods/s (N / time to the last Running),
//    and where the time goes, per stage (support/stages.ts);
//  - then all deleted at once: delete → gone (watch DELETED): p50/p99;
//  - the provider child's RSS (VmRSS, and VmHWM as peak).
// Prints figures and, last, one JSON object.
import { KubeConfig } from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import { KubeClient, type KubeObject } from '../provider/kube-client.ts';
import { startKubeApiServer } from '../test/support/kube-apiserver/index.ts';
import { freePort } from '../test/support/ports.ts';
import { leftovers, onCleanup, withCleanup } from './support/cleanup.ts';
import { rssMb, spawnBurstlet, startBaseServices, startWorker, stopChild, waitFor } from './support/services.ts';
import { stageBreakdown, type Stages } from './support/stages.ts';

const N = Math.max(1, Number(process.argv[2] ?? 200) || 200);
const QPS = Math.max(1, Number(process.argv[3] ?? 50) || 50);
const BURST = Math.max(1, Number(process.argv[4] ?? QPS * 2) || QPS * 2);
const NETWORK = process.argv[5] === 'bridge' ? 'bridge' : 'host';
const NODE = 'bench-e2e';
const NS = 'bench';
// `sleep` is PID 1 of its container, which ignores SIGTERM: every deleted pod lives out its
// grace period and is then killed (as under the kubelet). 1 s keeps that wait small and known.
const GRACE_SECONDS = 1;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))] ?? NaN;
const r1 = (x: number) => Math.round(x * 10) / 10;

if (process.getuid?.() !== 0) {
  console.error('bench e2e: needs root (namespaces, cgroups, mounts)');
  process.exit(2);
}

const podManifest = (name: string) => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: NS },
  spec: {
    nodeName: NODE, restartPolicy: 'Never', terminationGracePeriodSeconds: GRACE_SECONDS,
    tolerations: [{ key: 'virtual-kubelet.io/provider', operator: 'Exists', effect: 'NoSchedule' }],
    containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'], resources: { requests: { cpu: '5m', memory: '4Mi' } } }],
  },
});

/** Pods seen on one watch of the namespace: uid, first Running, DELETED, terminal phases. */
interface Observer { uids: Map<string, string>; runningAt: Map<string, number>; goneAt: Map<string, number>; failed: Map<string, string> }

async function observe(kube: KubeClient): Promise<Observer> {
  const o: Observer = { uids: new Map(), runningAt: new Map(), goneAt: new Map(), failed: new Map() };
  const w = await kube.watch(`/api/v1/namespaces/${NS}/pods`, {}, ({ type, object }: { type: string; object: KubeObject }) => {
    const name = object.metadata?.name as string | undefined;
    if (!name) return;
    o.uids.set(name, object.metadata.uid);
    const phase = object.status?.phase;
    if (phase === 'Running' && !o.runningAt.has(name)) o.runningAt.set(name, Date.now());
    if (phase === 'Failed' || phase === 'Succeeded') o.failed.set(name, `${phase} ${object.status?.reason ?? ''} ${JSON.stringify(object.status?.containerStatuses?.[0]?.state ?? {})}`);
    if (type === 'DELETED') o.goneAt.set(name, Date.now());
  }, (err) => {
    if (err) console.error('bench watch ended:', err);
  });
  onCleanup('watch', () => w.stop());
  return o;
}

function failIfAnyFailed(o: Observer, names: string[]): void {
  const bad = names.filter((n) => o.failed.has(n));
  if (bad.length) throw new Error(`${bad.length} pods ended instead of running: ${bad.slice(0, 3).map((n) => `${n}: ${o.failed.get(n)}`).join('; ')}`);
}

/** Creates `names` at once; resolves with each one's create time (Date.now()). */
async function createAll(kube: KubeClient, names: string[]): Promise<Map<string, number>> {
  const at = new Map<string, number>();
  await Promise.all(names.map(async (name) => {
    at.set(name, Date.now());
    await kube.request('POST', `/api/v1/namespaces/${NS}/pods`, { body: podManifest(name) });
  }));
  return at;
}

async function deleteAll(kube: KubeClient, names: string[]): Promise<Map<string, number>> {
  const at = new Map<string, number>();
  await Promise.all(names.map(async (name) => {
    at.set(name, Date.now());
    await kube.request('DELETE', `/api/v1/namespaces/${NS}/pods/${name}`);
  }));
  return at;
}

async function startProvider(api: { kubeconfigPath: string }, redisUrl: string, keyPrefix: string) {
  const port = await freePort();
  const child = spawnBurstlet([
    'provider', '--kubeconfig', api.kubeconfigPath, '--node-name', NODE, '--redis', redisUrl, '--key-prefix', keyPrefix,
    '--listen', `127.0.0.1:${port}`, '--no-tls', '--no-authentication', '--qps', String(QPS), '--burst', String(BURST),
    '--log-level', 'warn', '--log-format', 'json',
  ]);
  onCleanup('provider', () => stopChild(child, 30_000));
  return child;
}

async function nodeReady(kube: KubeClient): Promise<boolean> {
  const node = await kube.request('GET', `/api/v1/nodes/${NODE}`).catch(() => undefined);
  return node?.status?.conditions?.some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True') === true;
}

const seen = new Set<string>(); // every pod uid of this run: its cgroup is ours to sweep

async function main(): Promise<Record<string, unknown>> {
  const api = await startKubeApiServer({ bookmarkIntervalMs: 30_000 });
  onCleanup('API server', () => api.stop());
  const { redisUrl, registry } = await startBaseServices();
  const keyPrefix = `bench-e2e-${process.pid}`;
  const w = await startWorker({ redisUrl, registry, keyPrefix, maxPods: Math.min(1000, N + 10), network: NETWORK, ours: (c) => seen.has(c) });
  const provider = await startProvider(api, redisUrl, keyPrefix);
  const config = new KubeConfig();
  config.loadFromString(api.kubeconfig);
  const kube = new KubeClient({ config, qps: 10_000, burst: 10_000 });
  onCleanup('bench client', () => kube.close());
  await waitFor('node Ready', async () => {
    if (provider.exitCode !== null) throw new Error(`burstlet provider exited with ${provider.exitCode}`);
    return nodeReady(kube);
  }, 120_000);
  await kube.request('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } } });
  const obs = await observe(kube);
  const track = setInterval(() => obs.uids.forEach((uid) => seen.add(uid)), 50);
  onCleanup('uid tracking', () => {
    clearInterval(track);
    obs.uids.forEach((uid) => seen.add(uid));
  });

  // Pre-pull busybox with one pod, then remove it.
  await createAll(kube, ['warm']);
  await waitFor('warm-up pod Running', () => (failIfAnyFailed(obs, ['warm']), obs.runningAt.has('warm')), 120_000);
  await deleteAll(kube, ['warm']);
  await waitFor('warm-up pod gone', () => obs.goneAt.has('warm'), 120_000);

  const names = Array.from({ length: N }, (_, i) => `p${i}`);
  const createdAt = await createAll(kube, names);
  const t0 = Math.min(...createdAt.values());
  await waitFor(`${N} pods Running`, () => (failIfAnyFailed(obs, names), names.every((n) => obs.runningAt.has(n))), 900_000);
  const start = names.map((n) => obs.runningAt.get(n)! - createdAt.get(n)!);
  const podsPerS = N / ((Math.max(...names.map((n) => obs.runningAt.get(n)!)) - t0) / 1000);
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  onCleanup('redis client', () => redis.disconnect());
  const stages = await stageBreakdown(redis, w.keys, names.map((n) => ({ uid: obs.uids.get(n)!, createdAt: createdAt.get(n)!, observedAt: obs.runningAt.get(n)! })));
  const mem = await rssMb(provider.pid!);

  const deletedAt = await deleteAll(kube, names);
  await waitFor(`${N} pods gone`, () => names.every((n) => obs.goneAt.has(n)), 900_000);
  const del = names.map((n) => obs.goneAt.get(n)! - deletedAt.get(n)!);
  const after = await rssMb(provider.pid!);
  return report({ start, podsPerS, del, stages, rss: mem.rss, peak: after.peak });
}

function report(r: { start: number[]; podsPerS: number; del: number[]; stages: Stages; rss: number; peak: number }): Record<string, unknown> {
  console.log(`${N} pods (busybox sleep 3600, cached image), network ${NETWORK}${NETWORK === 'host' ? ' (CNI not in the figure)' : ' (CNI bridge)'}, provider qps ${QPS} burst ${BURST}`);
  console.log(`create → Running (watch): p50 ${r1(pct(r.start, 0.5))} ms, p99 ${r1(pct(r.start, 0.99))} ms, max ${r1(Math.max(...r.start))} ms; ${r1(r.podsPerS)} pods/s`);
  console.log(`delete → gone (watch DELETED, grace ${GRACE_SECONDS} s): p50 ${r1(pct(r.del, 0.5))} ms, p99 ${r1(pct(r.del, 0.99))} ms`);
  console.log(`provider RSS ${r1(r.rss)} MB after the pods ran (peak ${r1(r.peak)} MB)`);
  console.log(`where create → Running goes (${r.stages.toEnqueued.length} pods; p50 / p99 ms):`);
  const rows: [string, number[]][] = [
    ['create → enqueued (provider: watch, translate, enqueue)', r.stages.toEnqueued],
    ['enqueued → claimed (queue wait, worker admission)', r.stages.toClaimed],
    ['claimed → worker Running (sandbox, rootfs, container)', r.stages.toWorkerRunning],
    ['worker Running → watch Running (events, status write)', r.stages.toObserved],
  ];
  for (const [label, xs] of rows) console.log(`  ${label.padEnd(58)} ${String(r1(pct(xs, 0.5))).padStart(8)} / ${r1(pct(xs, 0.99))}`);
  const s = (xs: number[]) => ({ p50: r1(pct(xs, 0.5)), p99: r1(pct(xs, 0.99)) });
  return {
    pods: N, network: NETWORK, qps: QPS, burst: BURST,
    p50_ms: r1(pct(r.start, 0.5)), p99_ms: r1(pct(r.start, 0.99)), pods_per_s: r1(r.podsPerS),
    delete_p50_ms: r1(pct(r.del, 0.5)), delete_p99_ms: r1(pct(r.del, 0.99)),
    provider_rss_mb: r1(r.rss), provider_peak_rss_mb: r1(r.peak),
    stages_ms: { to_enqueued: s(r.stages.toEnqueued), to_claimed: s(r.stages.toClaimed), to_worker_running: s(r.stages.toWorkerRunning), to_observed: s(r.stages.toObserved) },
  };
}

const result = await withCleanup(main);
const left = await leftovers('burstlet-bench-', (c) => seen.has(c));
console.log(left.length ? `LEFT BEHIND:\n  ${left.join('\n  ')}` : 'cleanup: no processes, mounts or cgroups left behind');
if (result) console.log(JSON.stringify({ ...result, leftovers: left.length }));
else process.exitCode = 1;
