// `npm run bench -- worker-host [pods] [maxPods]`: what the worker host (queue consumer,
// admission, locks, reporter, registry) costs on a real redis-server. Pods are `/bin/true`
// run by the tests' ProcessRunner (plain child processes), so the runtime is the same on
// both sides:
//   host:      enqueue N pod jobs, one host claims, runs, reports and completes them all;
//   yardstick: the same runner runs the same N pods directly, as many at once as the host
//              may (maxPods), reporting into nothing.
// Also the host's own ceiling: the same N pods through a host whose runner reports Running
// and Succeeded and returns at once.
// Prints the rates and the ratio host/yardstick; last line one JSON object.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { redisKeys } from '../src/keys.ts';
import { silentLogger } from '../src/log.ts';
import { POD_JOB_VERSION, type PodJob } from '../src/schema/pod-job.ts';
import { startRedis } from '../test/support/redis.ts';
import { ProcessRunner } from '../test/workers/host/support/process-runner.ts';
import { WorkerHost } from '../workers/host/host.ts';
import { hostOptions } from '../workers/host/options.ts';
import type { PodOutcome, PodReporter, PodRunner } from '../workers/pod-runner.ts';

const pods = Math.max(10, Number(process.argv[2] ?? 400) || 400);
const maxPods = Math.max(1, Number(process.argv[3] ?? 16) || 16);
const job = (uid: string): PodJob => ({
  version: POD_JOB_VERSION, uid, namespace: 'bench', name: uid, pool: 'default', enqueuedAt: Date.now(),
  restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox', command: ['/bin/true'] }],
});

async function yardstick(count: number): Promise<number> {
  const runner = new ProcessRunner();
  const quiet: PodReporter = { status: () => undefined, log: () => undefined, stats: () => undefined };
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: maxPods }, async () => {
    while (next < count) await runner.run(job(`y-${next++}`), quiet);
  }));
  return count / ((performance.now() - t0) / 1000);
}

/** Runs nothing: the host's own cost per pod. */
const noopRunner: PodRunner = {
  async run(j, reporter): Promise<PodOutcome> {
    reporter.status({ uid: j.uid, namespace: j.namespace, name: j.name, phase: 'Running' });
    await new Promise((r) => setImmediate(r));
    reporter.status({ uid: j.uid, namespace: j.namespace, name: j.name, phase: 'Succeeded' });
    return { phase: 'Succeeded' };
  },
  stop: async () => undefined,
  exec: () => Promise.reject(new Error('no exec in the bench')),
  list: () => [],
  close: async () => undefined,
};

async function throughHost(url: string, runner: PodRunner, name: string): Promise<number> {
  const keys = redisKeys(`bench-${name}-${process.pid}`);
  const stateDir = mkdtempSync(join(tmpdir(), 'burstlet-bench-host-'));
  const host = await WorkerHost.start(
    hostOptions({ redisUrl: url, keyPrefix: keys.prefix, workerId: 'bench', stateDir, allocatable: { pods: maxPods } }),
    runner, silentLogger());
  const queue = new Queue(keys.queue('default'), { connection: { url }, prefix: keys.prefix });
  try {
    const t0 = performance.now();
    await queue.addBulk(Array.from({ length: pods }, (_, i) => ({ name: 'pod', data: job(`h-${i}`), opts: { jobId: `h-${i}`, attempts: 1 } })));
    while ((await queue.getJobCountByTypes('completed')) < pods) await new Promise((r) => setTimeout(r, 10));
    return pods / ((performance.now() - t0) / 1000);
  } finally {
    await host.shutdown('finish');
    await queue.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

const server = await startRedis();
try {
  await yardstick(Math.min(pods, 50)); // warm-up: the first spawns of a process are slower
  const runnerRate = await yardstick(pods);
  const hostRate = await throughHost(server.url, new ProcessRunner(), 'true');
  const ceiling = await throughHost(server.url, noopRunner, 'noop');
  const ratio = hostRate / runnerRate;
  console.log(`${pods} /bin/true pods, up to ${maxPods} at once`);
  console.log(`runner alone:   ${runnerRate.toFixed(1)} pods/s`);
  console.log(`through host:   ${hostRate.toFixed(1)} pods/s (queue → claim → run → events → complete)`);
  console.log(`ratio:          ${ratio.toFixed(2)}`);
  console.log(`host ceiling:   ${ceiling.toFixed(1)} pods/s (runner that runs nothing)`);
  const r2 = (x: number) => Math.round(x * 100) / 100;
  console.log(JSON.stringify({ pods, max_pods: maxPods, host_pods_per_s: r2(hostRate), runner_pods_per_s: r2(runnerRate), ratio: r2(ratio), host_noop_pods_per_s: r2(ceiling) }));
} finally {
  await server.stop();
}
