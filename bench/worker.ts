// `npm run bench -- worker [N=200] [maxPods=16] [rounds=3] [warmupRounds=⌈1000/N⌉]`: pods per second ONE real worker
// host starts and finishes. `burstlet worker` runs as a child process (runtime burstlet,
// network host, busybox from the local registry already cached by a warm-up pod); N
// `/bin/true` pods (restartPolicy Never) are enqueued at once straight onto its BullMQ queue as
// PodJobs (jobId = uid) and timed until every job is completed — each pod is one container
// (a lone Never container on the host network needs no pause process), its rootfs an overlay
// snapshot, its events published to Redis.
// Yardstick in the same run: the executor alone, `burstlet-runtime run` of /bin/true on the
// worker's own container bundle (captured from a running pod, see support/executor-rate.ts),
// N runs, maxPods at once, its state in the worker's run directory and its logs on disk.
// Each round runs both sides, alternating which goes first; prints each round and the medians
// over the rounds after the warm-up ones (rates, the ratio, CPU per pod); last line one JSON
// object. Warm-up rounds are run and printed but not counted: a worker is a long-running
// process, and its first thousand pods or so also pay for V8 optimising its code (with one
// 200-pod warm-up round, the counted rounds' main thread took ~1 ms a pod more and V8's
// compiler thread up to 1.3 ms): by default the warm-up rounds hold at least 1000 pods.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { POD_JOB_VERSION, type PodJob } from '../src/schema/pod-job.ts';
import { publish } from '../src/streams.ts';
import { leftovers, onCleanup, sweepWorkerState, withCleanup } from './support/cleanup.ts';
import { captureBundle, executorRunRate } from './support/executor-rate.ts';
import { blockIo, blockIoPer, machineBusyMs, processCpuMs, threadCpuMs, rssMb, startBaseServices, startWorker, waitFor, type BlockIo, type WorkerChild } from './support/services.ts';

const N = Math.max(1, Number(process.argv[2] ?? 200) || 200);
const MAX_PODS = Math.max(1, Number(process.argv[3] ?? 16) || 16);
const ROUNDS = Math.max(1, Number(process.argv[4] ?? 3) || 3);
const WARMUP_PODS = 1000;
const WARMUP_ROUNDS = Math.max(0, Number(process.argv[5] ?? Math.ceil(WARMUP_PODS / N)) || 0);
const UID_PREFIX = `bw${process.pid}-`;
const r2 = (x: number) => Math.round(x * 100) / 100;

if (process.getuid?.() !== 0) {
  console.error('bench worker: needs root (namespaces, cgroups, mounts)');
  process.exit(2);
}

const podJob = (uid: string, command: string[]): PodJob => ({
  version: POD_JOB_VERSION, uid, namespace: 'bench', name: uid, pool: 'default', enqueuedAt: Date.now(),
  restartPolicy: 'Never', terminationGracePeriodSeconds: 0,
  containers: [{ name: 'main', image: 'busybox', imagePullPolicy: 'IfNotPresent', command }],
});

const finished = (queue: Queue) => queue.getJobCountByTypes('completed', 'failed');

/** Enqueues `jobs`; resolves with the count of finished jobs before them (for `settled`). */
async function enqueue(queue: Queue, jobs: PodJob[]): Promise<number> {
  const before = await finished(queue);
  await queue.addBulk(jobs.map((data) => ({ name: 'pod', data, opts: { jobId: data.uid, attempts: 1, removeOnComplete: false, removeOnFail: false } })));
  return before;
}

interface Settled { phase: string; waitMs: number; runMs: number; processedOn: number; finishedOn: number }

/** The worker under test, once started: a wait for jobs ends at once if it is gone. */
let workerUnderTest: WorkerChild | undefined;

/** Waits until `uids` are all completed or failed, checking every `everyMs`. */
async function allFinished(queue: Queue, uids: string[], before: number, everyMs = 20): Promise<void> {
  try {
    await waitFor(`${uids.length} jobs completed`, async () => {
      const c = workerUnderTest?.child;
      if (c && (c.exitCode !== null || c.signalCode !== null)) throw new Error(`the worker exited (${c.exitCode ?? c.signalCode})`);
      return (await finished(queue)) >= before + uids.length;
    }, 600_000, everyMs);
  } catch (err) {
    const counts = await queue.getJobCounts('wait', 'active', 'delayed', 'completed', 'failed', 'prioritized');
    throw new Error(`${(err as Error).message}; jobs by state: ${JSON.stringify(counts)}`);
  }
}

/** The outcomes of finished `uids`: phase, queue wait, claim → done, finishedOn (the job's timestamp, ms since the epoch). */
async function outcomes(queue: Queue, uids: string[]): Promise<Settled[]> {
  const jobs = await Promise.all(uids.map((uid) => queue.getJob(uid)));
  return jobs.map((j) => ({
    phase: (j?.returnvalue as { phase?: string } | undefined)?.phase ?? `job ${j?.failedReason ?? 'missing'}`,
    waitMs: (j?.processedOn ?? NaN) - (j?.timestamp ?? NaN),
    runMs: (j?.finishedOn ?? NaN) - (j?.processedOn ?? NaN),
    processedOn: j?.processedOn ?? NaN,
    finishedOn: j?.finishedOn ?? NaN,
  }));
}

/** `allFinished`, then their outcomes. */
async function settled(queue: Queue, uids: string[], before: number): Promise<Settled[]> {
  await allFinished(queue, uids, before);
  return outcomes(queue, uids);
}
const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

/** Runs a `sleep` pod, copies its container bundle while it runs, then stops it. */
async function capture(w: WorkerChild, queue: Queue, redis: Redis, dest: string): Promise<string> {
  const uid = `${UID_PREFIX}capture`;
  const before = await enqueue(queue, [podJob(uid, ['sleep', '3600'])]);
  const podDir = join(w.stateDir, 'run', 'pods', uid);
  const bundle = join(podDir, 'containers', 'main-0');
  await waitFor('the capture pod\'s bundle', () => existsSync(join(bundle, 'config.json')), 60_000);
  await waitFor('the capture pod started', async () => (await redis.get(w.keys.podSeq(uid))) !== null && existsSync(join(bundle, 'record.json')), 60_000);
  const out = await captureBundle(bundle, [podDir, join(w.stateDir, 'runtime', 'pods', uid)], dest);
  await publish(redis, w.keys.control(w.id), { kind: 'stop', uid, gracePeriodSeconds: 0 });
  const [{ phase }] = await settled(queue, [uid], before);
  console.log(`captured the worker's container bundle (capture pod stopped: ${phase})`);
  return out;
}

async function main(): Promise<Record<string, unknown>> {
  const { redisUrl, registry } = await startBaseServices();
  const w = await startWorker({ redisUrl, registry, keyPrefix: `bench-worker-${process.pid}`, maxPods: MAX_PODS, network: 'host', ours: (c) => c.startsWith(UID_PREFIX) });
  workerUnderTest = w;
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  // BullMQ does not close a connection it was given: closed here, after the queue.
  const conn = redis.duplicate();
  const queue = new Queue(w.keys.queue('default'), { connection: conn, prefix: w.keys.prefix });
  onCleanup('queue', async () => {
    await queue.close();
    conn.disconnect();
    redis.disconnect();
  });
  const warm = await (async () => {
    const before = await enqueue(queue, [podJob(`${UID_PREFIX}warm`, ['/bin/true'])]);
    return (await settled(queue, [`${UID_PREFIX}warm`], before))[0].phase;
  })();
  if (warm !== 'Succeeded') throw new Error(`warm-up pod ended ${warm}`);
  const scratch = await mkdtemp(join(tmpdir(), 'burstlet-bench-executor-'));
  // The runs keep their state where the worker keeps its executor's (its run directory, a
  // tmpfs: workers/runtime/run-dir.ts) and their logs on disk, as the worker's pods do.
  const yardstickRoot = join(w.stateDir, 'run', 'bench-yardstick');
  onCleanup('executor scratch', async () => {
    await sweepWorkerState(scratch, (c) => c.startsWith(UID_PREFIX), yardstickRoot);
    await rm(yardstickRoot, { recursive: true, force: true });
  });
  const bundle = await capture(w, queue, redis, join(scratch, 'bundle'));

  // Rounds alternate which side goes first, and the figures are medians over rounds: this VM's
  // speed drifts by 10-20 % within a minute, and one yardstick phase then one worker phase
  // compared two different machines.
  const rounds: Round[] = [];
  const warmups: Round[] = [];
  for (let r = 0; r < WARMUP_ROUNDS + ROUNDS; r++) {
    const warmup = r < WARMUP_ROUNDS;
    const executorFirst = r % 2 === 0;
    let executor: Round['executor'] | undefined;
    let worker: WorkerPhase | undefined;
    for (const side of executorFirst ? ['executor', 'worker'] : ['worker', 'executor']) {
      if (side === 'executor') {
        const busy0 = machineBusyMs();
        const io0 = blockIo(tmpdir());
        const rate = await executorRunRate(bundle, yardstickRoot, join(scratch, 'logs'), `${UID_PREFIX}x${r}-`, N, MAX_PODS);
        executor = { rate, cpuMs: (machineBusyMs() - busy0) / N, io: blockIoPer(io0, blockIo(tmpdir()), N) };
      } else {
        worker = await workerPhase(w, queue, redis, r);
      }
    }
    (warmup ? warmups : rounds).push({ executor: executor!, worker: worker!, ratio: worker!.rate / executor!.rate });
    const label = warmup ? `warm-up round ${r + 1}/${WARMUP_ROUNDS} (not counted)` : `round ${r - WARMUP_ROUNDS + 1}/${ROUNDS}`;
    console.log(`${label}: executor ${executor!.rate.toFixed(1)} runs/s, worker ${worker!.rate.toFixed(1)} pods/s, ratio ${(worker!.rate / executor!.rate).toFixed(2)}`);
  }
  const med = (f: (x: Round) => number) => p50(rounds.map(f));
  const last = rounds.at(-1)!.worker;
  const workerRss = await rssMb(w.child.pid!);
  console.log(`${N} /bin/true pods per round, ${ROUNDS} rounds after ${WARMUP_ROUNDS} warm-up, up to ${MAX_PODS} at once, network host, cached busybox; medians over rounds:`);
  console.log(`executor alone:  ${med((x) => x.executor.rate).toFixed(1)} runs/s (burstlet-runtime run, worker's bundle)`);
  console.log(`worker host:     ${med((x) => x.worker.rate).toFixed(1)} pods/s (queue → claim → sandbox + container → events → complete)`);
  console.log(`ratio:           ${med((x) => x.ratio).toFixed(2)} (goal ≥ 0.8; per round ${rounds.map((x) => x.ratio.toFixed(2)).join(', ')})`);
  console.log(`machine CPU:     ${med((x) => x.executor.cpuMs).toFixed(1)} ms per executor run, ${med((x) => x.worker.cpuMs).toFixed(1)} ms per worker pod (all processes: runtime, worker, redis, kernel, the bench's polling); the worker's Node process alone ${med((x) => x.worker.nodeCpuMs).toFixed(1)} ms per pod`);
  const ioMed = (f: (x: Round) => BlockIo): BlockIo => ({ writes: r2(med((x) => f(x).writes)), discards: r2(med((x) => f(x).discards)), flushes: r2(med((x) => f(x).flushes)) });
  const [exIo, wkIo] = [ioMed((x) => x.executor.io), ioMed((x) => x.worker.io)];
  const ioText = (io: BlockIo) => `${io.writes.toFixed(1)} writes, ${io.discards.toFixed(1)} discards, ${io.flushes.toFixed(2)} flushes`;
  console.log(`block I/O:       ${ioText(exIo)} per executor run; ${ioText(wkIo)} per worker pod (requests completed by the state dir's disk during the phase)`);
  const calls = [...last.redisCalls].sort((a, b) => b[1] - a[1]);
  const totalCalls = calls.reduce((a, [, n]) => a + n, 0);
  console.log(`redis-server:    ${med((x) => x.worker.redisCpuMs).toFixed(1)} ms CPU per worker pod; last round ${totalCalls.toFixed(1)} commands per pod (${calls.slice(0, Number(process.env.BENCH_REDIS_TOP ?? 8)).map(([c, n]) => `${c} ${n.toFixed(1)}`).join(', ')}; the bench's enqueue and polling included)`);
  console.log(`per pod, last round (job timestamps): queue wait p50 ${last.waitP50} ms; claim → completed p50 ${last.runP50} ms, max ${last.runMax} ms; ` +
    `pods in flight on average ${last.inFlight.toFixed(1)} of ${MAX_PODS}`);
  console.log(`worker RSS ${workerRss.rss.toFixed(1)} MB (peak ${workerRss.peak.toFixed(1)} MB); with BENCH_CPU_PROF=DIR the worker writes a CPU profile`);
  return { pods: N, rounds: ROUNDS, warmup_rounds: WARMUP_ROUNDS, warmup_ratio: warmups.map((x) => r2(x.ratio)), max_pods: MAX_PODS, network: 'host', worker_pods_per_s: r2(med((x) => x.worker.rate)), executor_runs_per_s: r2(med((x) => x.executor.rate)),
    ratio: r2(med((x) => x.ratio)), ratio_per_round: rounds.map((x) => r2(x.ratio)),
    executor_cpu_ms_per_run: r2(med((x) => x.executor.cpuMs)), worker_cpu_ms_per_pod: r2(med((x) => x.worker.cpuMs)), worker_node_cpu_ms_per_pod: r2(med((x) => x.worker.nodeCpuMs)), redis_cpu_ms_per_pod: r2(med((x) => x.worker.redisCpuMs)), redis_commands_per_pod: r2(totalCalls),
    executor_block_io_per_run: exIo, worker_block_io_per_pod: wkIo,
    worker_rss_mb: r2(workerRss.rss) };
}

/** redis-server's own CPU (ms) and its calls by command, from INFO: what the worker's Redis traffic costs the server. */
async function redisCounters(redis: Redis): Promise<{ cpuMs: number; calls: Map<string, number> }> {
  const info = await redis.info('all');
  const num = (k: string) => Number(new RegExp(`^${k}:([\\d.]+)`, 'm').exec(info)?.[1] ?? NaN);
  const calls = new Map<string, number>();
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls.set(m[1], Number(m[2]));
  return { cpuMs: (num('used_cpu_user') + num('used_cpu_sys')) * 1000, calls };
}

interface WorkerPhase { rate: number; cpuMs: number; nodeCpuMs: number; redisCpuMs: number; redisCalls: Map<string, number>; waitP50: number; runP50: number; runMax: number; inFlight: number; io: BlockIo }
interface Round { executor: { rate: number; cpuMs: number; io: BlockIo }; worker: WorkerPhase; ratio: number }

/** N `/bin/true` pods (round `r`) enqueued at once on the worker; its rate and CPU per pod. */
async function workerPhase(w: WorkerChild, queue: Queue, redis: Redis, r: number): Promise<WorkerPhase> {
  const uids = Array.from({ length: N }, (_, i) => `${UID_PREFIX}r${r}p${i}`);
  // Timed from just before the enqueue to the last job's finishedOn (the worker stamps it),
  // so the end is exact while the bench checks for it only every 250 ms: a 20 ms poll
  // (a Lua count on the worker's Redis and the bench's own event loop) took about 1 ms of
  // machine CPU per pod from the worker, where the yardstick's xargs costs nothing waiting.
  const t0 = Date.now();
  const busy0 = machineBusyMs();
  const node0 = processCpuMs(w.child.pid!);
  const redis0 = await redisCounters(redis);
  const threads0 = threadCpuMs(w.child.pid!);
  const io0 = blockIo(tmpdir());
  const before = await enqueue(queue, uids.map((uid) => podJob(uid, ['/bin/true'])));
  const enqueuedMs = Date.now() - t0;
  await allFinished(queue, uids, before, 250);
  const cpuMs = (machineBusyMs() - busy0) / N;
  const io = blockIoPer(io0, blockIo(tmpdir()), N);
  const nodeCpuMs = (processCpuMs(w.child.pid!) - node0) / N;
  const redis1 = await redisCounters(redis);
  const threads1 = threadCpuMs(w.child.pid!);
  const threads = [...threads1].map(([name, t]) => {
    const t0 = threads0.get(name) ?? { user: 0, sys: 0 };
    return `${name} ${((t.user - t0.user) / N).toFixed(2)}u+${((t.sys - t0.sys) / N).toFixed(2)}s`;
  });
  console.log(`  worker threads, ms per pod: ${threads.join(', ')}`);
  const redisCalls = new Map([...redis1.calls].map(([c, n]) => [c, (n - (redis0.calls.get(c) ?? 0)) / N] as const).filter(([, n]) => n > 0));
  const done = await outcomes(queue, uids);
  const bad = done.map((d) => d.phase).filter((p) => p !== 'Succeeded');
  if (bad.length) throw new Error(`${bad.length} pods did not succeed: ${[...new Set(bad)].join(', ')}`);
  const wallMs = Math.max(...done.map((d) => d.finishedOn)) - t0;
  const firstClaim = Math.min(...done.map((d) => d.processedOn));
  const ends = done.map((d) => d.finishedOn).sort((a, b) => b - a);
  console.log(`  timed ${wallMs} ms: the enqueue (the bench's addBulk) took ${enqueuedMs} ms, the first claim came ${firstClaim - t0} ms after its start; ` +
    `the last ${MAX_PODS} pods ended over the last ${ends[0] - ends[Math.min(MAX_PODS, ends.length) - 1]} ms`);
  const runs = done.map((d) => d.runMs);
  return {
    rate: N / (wallMs / 1000), cpuMs, nodeCpuMs, redisCpuMs: (redis1.cpuMs - redis0.cpuMs) / N, redisCalls, waitP50: p50(done.map((d) => d.waitMs)), runP50: p50(runs), runMax: Math.max(...runs),
    inFlight: runs.reduce((a, b) => a + b, 0) / wallMs, io,
  };
}

const result = await withCleanup(main);
const left = [...await leftovers(UID_PREFIX), ...await leftovers('burstlet-bench-')];
console.log(left.length ? `LEFT BEHIND:\n  ${left.join('\n  ')}` : 'cleanup: no processes, mounts or cgroups left behind');
if (result) console.log(JSON.stringify({ ...result, leftovers: left.length }));
else process.exitCode = 1;
