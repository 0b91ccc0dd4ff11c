// `npm run bench -- provider [pods] [qps]`: the provider's Kubernetes plumbing under churn.
// The provider runs as `burstlet provider` (child process, so its RSS is its own) against the
// project's test API server and a real redis-server; a simulated worker speaking the Redis
// contract claims every job at once and reports Running (with the Pulled/Created/Started notes
// a real worker sends), and Succeeded (note Killing) on `stop`. So the
// figures are the provider's own overhead (watch → translate → enqueue → event → pods/status,
// and delete → stop → delete grace 0), not container start time.
//  - pods created at once, create → Running observed through a watch: p50/p99, pods/s;
//  - all deleted at once, delete → gone (watch DELETED): p50/p99;
//  - yardstick: the same API round trips with no provider — a client that PATCHes Running
//    as soon as its watch sees a pod and deletes with grace 0 as soon as it sees a deletion.
// Prints figures and, last, one JSON object.
import { KubeConfig } from '@kubernetes/client-node';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { KubeClient, type KubeObject } from '../provider/kube-client.ts';
import { redisKeys } from '../src/keys.ts';
import { controlMessage } from '../src/schema/control.ts';
import type { PodJob } from '../src/schema/pod-job.ts';
import { publish } from '../src/streams.ts';
import { startKubeApiServer } from '../test/support/kube-apiserver/index.ts';
import { freePort } from '../test/support/ports.ts';
import { startRedis } from '../test/support/redis.ts';

const N = Number(process.argv[2] ?? 200) || 200;
const QPS = Number(process.argv[3] ?? 50) || 50;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))] ?? NaN;
const r1 = (x: number) => Math.round(x * 10) / 10;

const api = await startKubeApiServer();
const server = await startRedis();
const redis = new Redis(server.url, { maxRetriesPerRequest: null });
const keys = redisKeys('bench');
const config = new KubeConfig();
config.loadFromString(api.kubeconfig);
const kube = new KubeClient({ config, qps: 10_000, burst: 10_000 });

/** Watches pods in `ns`; records when each name is first Running and when it is deleted. */
async function observe(ns: string, onEvent?: (type: string, pod: KubeObject) => void) {
  const runningAt = new Map<string, number>();
  const goneAt = new Map<string, number>();
  const w = await kube.watch(`/api/v1/namespaces/${ns}/pods`, { allowWatchBookmarks: 'true' }, ({ type, object }) => {
    const name = object.metadata?.name;
    if (!name) return;
    if (object.status?.phase === 'Running' && !runningAt.has(name)) runningAt.set(name, performance.now());
    if (type === 'DELETED') goneAt.set(name, performance.now());
    onEvent?.(type, object);
  }, () => {});
  return { runningAt, goneAt, stop: () => w.stop() };
}

async function until(what: string, check: () => boolean, timeoutMs = 300_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function churn(ns: string, nodeName: string, obs: Awaited<ReturnType<typeof observe>>) {
  await kube.request('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } } });
  const createdAt = new Map<string, number>();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: N }, async (_, i) => {
    const name = `p${i}`;
    createdAt.set(name, performance.now());
    await kube.request('POST', `/api/v1/namespaces/${ns}/pods`, {
      body: { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { nodeName, terminationGracePeriodSeconds: 30, containers: [{ name: 'c', image: 'busybox:1.36', command: ['sleep', '3600'] }] } },
    });
  }));
  await until('all Running', () => obs.runningAt.size >= N);
  const start = [...createdAt].map(([n, t]) => obs.runningAt.get(n)! - t);
  const podsPerS = N / ((Math.max(...obs.runningAt.values()) - t0) / 1000);
  const deletedAt = new Map<string, number>();
  await Promise.all([...createdAt.keys()].map(async (name) => {
    deletedAt.set(name, performance.now());
    await kube.request('DELETE', `/api/v1/namespaces/${ns}/pods/${name}`);
  }));
  await until('all gone', () => obs.goneAt.size >= N);
  const del = [...deletedAt].map(([n, t]) => obs.goneAt.get(n)! - t);
  return { p50: pct(start, 0.5), p99: pct(start, 0.99), podsPerS, delP50: pct(del, 0.5), delP99: pct(del, 0.99) };
}

// Yardstick: the API floor, no provider.
const direct = await observe('yard', (type, pod) => {
  const path = `/api/v1/namespaces/yard/pods/${pod.metadata.name}`;
  if (type === 'ADDED') void kube.request('PATCH', `${path}/status`, { patch: 'strategic', body: { status: { phase: 'Running', podIP: '10.0.0.1' } } });
  else if (pod.metadata.deletionTimestamp && type === 'MODIFIED') void kube.request('DELETE', path, { body: { gracePeriodSeconds: 0 } }).catch(() => {});
});
const yard = await churn('yard', 'yard-node', direct);
direct.stop();
console.log(`yardstick (API round trips only): create→Running p50 ${r1(yard.p50)} ms, p99 ${r1(yard.p99)} ms, ${r1(yard.podsPerS)} pods/s; delete→gone p99 ${r1(yard.delP99)} ms`);

// Simulated worker: claim at once, Running at once; on stop, terminal at once and complete.
const workerConn = new Redis(server.url, { maxRetriesPerRequest: null });
const worker = new Worker(keys.queue('default'), null, { connection: workerConn, prefix: keys.prefix, autorun: false, lockDuration: 600_000 });
await redis.set(keys.worker('sim'), JSON.stringify({ id: 'sim', pool: 'default', hostname: 'sim', os: 'linux', arch: 'amd64', version: '0', startedAt: 0, heartbeatAt: 0, allocatable: { cpuMillis: 1e6, memoryBytes: 1e13, pods: 10_000, ephemeralStorageBytes: 0 }, used: { cpuMillis: 0, memoryBytes: 0, pods: 0, ephemeralStorageBytes: 0 } }));
await redis.sadd(keys.workers('default'), 'sim');
const jobs = new Map<string, { job: Awaited<ReturnType<Worker['getNextJob']>>; data: PodJob }>();
let simStopped = false;
// Notes as the real worker sends them (each becomes a kubelet Event on the Event budget).
const note = (reason: string, message: string) => ({ type: 'Normal', reason, message, container: 'c', at: Date.now() });
const snapshot = async (d: PodJob, phase: string, state: object, notes: object[]) => {
  const seq = await redis.incr(keys.podSeq(d.uid));
  await publish(redis, keys.events, { uid: d.uid, namespace: d.namespace, name: d.name, seq, workerId: 'sim', at: Date.now(), phase, podIP: '10.0.0.2', containerStatuses: [{ name: 'c', ready: phase === 'Running', restartCount: 0, image: 'busybox', imageID: '', state }], notes });
};
const claimLoop = (async () => {
  while (!simStopped) {
    const job = await worker.getNextJob('sim', { block: true }).catch(() => undefined);
    if (!job) continue;
    const data = job.data as PodJob;
    jobs.set(data.uid, { job, data });
    await redis.set(keys.podWorker(data.uid), 'sim');
    await snapshot(data, 'Running', { running: { startedAt: new Date().toISOString() } }, [
      note('Pulled', 'Container image "busybox:1.36" already present on machine'), note('Created', 'Created container c'), note('Started', 'Started container c'),
    ]);
  }
})();
const control = redis.duplicate();
const controlLoop = (async () => {
  let last = '0'; // from the start: '$' would miss messages added between two reads
  while (!simStopped) {
    const res = (await control.xread('BLOCK', 500, 'STREAMS', keys.control('sim'), last)) as [string, [string, string[]][]][] | null;
    for (const [id, f] of res?.[0]?.[1] ?? []) {
      last = id;
      const m = controlMessage(JSON.parse(f[1]!));
      const j = m.kind === 'stop' ? jobs.get(m.uid) : undefined;
      if (!j) continue;
      await snapshot(j.data, 'Succeeded', { terminated: { exitCode: 0, reason: 'Completed' } }, [note('Killing', 'Stopping container c')]);
      await j.job!.moveToCompleted({}, 'sim', false);
    }
  }
})();

const port = await freePort();
const provider = spawn(process.execPath, [
  'src/cli/main.ts', 'provider', '--kubeconfig', api.kubeconfigPath, '--node-name', 'bench-node', '--redis', server.url, '--key-prefix', keys.prefix,
  '--listen', `127.0.0.1:${port}`, '--no-tls', '--no-authentication', '--log-level', 'warn', '--log-format', 'json', '--qps', String(QPS), '--burst', String(QPS * 2),
], { stdio: ['ignore', 'ignore', 'inherit'] });
/** The provider's Kubernetes requests so far by `VERB resource`, from its /metrics. */
async function kubeRequests(): Promise<Record<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^burstlet_kube_requests_total\{([^}]*)\} (\S+)$/gm)) {
    const l = Object.fromEntries([...m[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    const k = `${l.verb} ${l.resource}${l.code === '2xx' ? '' : ` ${l.code}`}`;
    out[k] = (out[k] ?? 0) + Number(m[2]);
  }
  return out;
}
const rssMb = (field: string) => Number(/(\d+) kB/.exec(readFileSync(`/proc/${provider.pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(field)) ?? '')?.[1] ?? NaN) / 1024;
try {
  for (let i = 0; ; i++) {
    try {
      // The node exists and the kubelet API (its /metrics) listens.
      await kube.request('GET', '/api/v1/nodes/bench-node');
      await kubeRequests();
      break;
    } catch (err) {
      if (i > 1200) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const before = await kubeRequests();
  const obs = await observe('bench');
  const res = await churn('bench', 'bench-node', obs);
  obs.stop();
  const after = await kubeRequests();
  const perPod = Object.fromEntries(Object.entries(after).map(([k, v]) => [k, Math.round(((v - (before[k] ?? 0)) / N) * 100) / 100]).filter(([, v]) => (v as number) > 0));
  console.log(`provider Kubernetes requests per pod (create + delete): ${JSON.stringify(perPod)}`);
  const rss = rssMb('VmRSS:');
  const peak = rssMb('VmHWM:');
  console.log(`provider (qps ${QPS}, burst ${QPS * 2}), ${N} pods: create→Running p50 ${r1(res.p50)} ms, p99 ${r1(res.p99)} ms, ${r1(res.podsPerS)} pods/s; delete→gone p50 ${r1(res.delP50)} ms, p99 ${r1(res.delP99)} ms; provider RSS ${r1(rss)} MB (peak ${r1(peak)} MB)`);
  console.log(JSON.stringify({
    pods: N, qps: QPS, p50_ms: r1(res.p50), p99_ms: r1(res.p99), pods_per_s: r1(res.podsPerS), delete_p50_ms: r1(res.delP50), delete_p99_ms: r1(res.delP99),
    provider_rss_mb: r1(rss), provider_peak_rss_mb: r1(peak), kube_requests_per_pod: perPod,
    yardstick_p50_ms: r1(yard.p50), yardstick_p99_ms: r1(yard.p99), yardstick_pods_per_s: r1(yard.podsPerS), yardstick_delete_p99_ms: r1(yard.delP99),
  }));
} finally {
  // The provider goes first (its shutdown still talks to the API server and redis).
  const exited = new Promise((r) => provider.once('exit', r));
  provider.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
  simStopped = true;
  await Promise.race([Promise.all([claimLoop, controlLoop]), new Promise((r) => setTimeout(r, 3000))]);
  await worker.close();
  workerConn.disconnect();
  control.disconnect();
  redis.disconnect();
  kube.close();
  await api.stop();
  await server.stop();
}
