// Shared pieces of the worker host tests: pod jobs, a fast host on a real redis-server,
// polling waits and readers for what the host writes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, type TestContext } from 'node:test';
import { Job, Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { redisKeys, type Keys } from '../../../../src/keys.ts';
import { startRedis, type RedisServer } from '../../../support/redis.ts';
import { silentLogger } from '../../../../src/log.ts';
import { podEvent, type PodEvent } from '../../../../src/schema/pod-event.ts';
import { POD_JOB_VERSION, type PodJob } from '../../../../src/schema/pod-job.ts';
import { WorkerHost } from '../../../../workers/host/host.ts';
import { hostOptions, type HostOptions } from '../../../../workers/host/options.ts';
import type { PodRunner } from '../../../../workers/pod-runner.ts';

let counter = 0;
/** A key prefix no other test (or test file running at the same time) uses. */
export const uniquePrefix = (name: string) => `t-${name}-${process.pid}-${++counter}`;

/**
 * Fast timings, still generous for a machine running the whole team's suites at once: a lock
 * lost by a slow event loop would fence a pod and fail an unrelated test.
 */
export const FAST = {
  heartbeatIntervalMs: 500,
  lockDurationMs: 5000,
  stalledIntervalMs: 500,
  handbackDelayMs: 200,
  drainDelaySeconds: 0.5,
} satisfies Partial<HostOptions>;

export function pod(uid: string, command: string[], extra: { cpuMillis?: number; restartPolicy?: PodJob['restartPolicy'] } = {}): PodJob {
  return {
    version: POD_JOB_VERSION, uid, namespace: 'default', name: `pod-${uid}`, pool: 'default',
    enqueuedAt: Date.now(), restartPolicy: extra.restartPolicy ?? 'Never',
    containers: [{ name: 'main', image: 'busybox', command, requests: extra.cpuMillis === undefined ? undefined : { cpuMillis: extra.cpuMillis } }],
  };
}

export interface TestHost {
  host: WorkerHost;
  options: HostOptions;
  cleanup(): void;
}

/**
 * A fast host on `prefix`. Its state dir is `extra.stateDir`, or one made here that goes at
 * `cleanup()` or, at the latest, when the test file's process exits (not every test calls it).
 */
export async function startHost(url: string, prefix: string, runner: PodRunner, extra: Partial<HostOptions> = {}): Promise<TestHost> {
  const made = extra.stateDir === undefined ? mkdtempSync(join(tmpdir(), 'burstlet-host-')) : undefined;
  const cleanup = () => {
    if (made) rmSync(made, { recursive: true, force: true });
  };
  if (made) process.once('exit', cleanup);
  const options = hostOptions({ redisUrl: url, keyPrefix: prefix, workerId: `w-${++counter}`, stateDir: made ?? extra.stateDir!, ...FAST, ...extra });
  const host = await WorkerHost.start(options, runner, silentLogger());
  return { host, options, cleanup };
}

/**
 * A test's own keys, a fast host on them and a queue handle; the host hands its pods back,
 * the queue closes and the state dir goes when the test ends.
 */
export async function hostWithQueue(t: TestContext, url: string, name: string, runner: PodRunner, extra: Partial<HostOptions> = {}) {
  const keys = redisKeys(uniquePrefix(name));
  const { host, options, cleanup } = await startHost(url, keys.prefix, runner, extra);
  const queue = queueFor(url, keys);
  t.after(async () => {
    await host.shutdown('handback');
    await queue.close();
    cleanup();
  });
  return { keys, host, options, queue };
}

export function queueFor(url: string, keys: Keys, pool = 'default'): Queue {
  const queue = new Queue(keys.queue(pool), { connection: { url }, prefix: keys.prefix });
  queue.on('error', () => undefined); // tests that stop Redis on purpose
  return queue;
}

/** What the provider does: one job per pod, job id = pod UID. */
export function enqueue(queue: Queue, job: PodJob | Record<string, unknown>, uid = String(job.uid)) {
  return queue.add('pod', job, { jobId: uid, attempts: 1, removeOnComplete: false, removeOnFail: false });
}

/** Polls `check` until it returns a value other than undefined/false; fails after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Every PodEvent on the events stream, validated, optionally of one pod. */
export async function events(redis: Redis, keys: Keys, uid?: string): Promise<PodEvent[]> {
  const entries = await redis.xrange(keys.events, '-', '+');
  return entries.map(([, f]) => podEvent(JSON.parse(f[1]!))).filter((e) => uid === undefined || e.uid === uid);
}

export { redisKeys };

export interface HostProcess {
  readonly child: import('node:child_process').ChildProcess;
  readonly options: HostOptions;
  /** Resolves with the exit code (or 128 + signal number). */
  readonly exited: Promise<number>;
  /** Kills every pod process the host started (a SIGKILLed host leaves them behind). */
  killPods(): void;
  cleanup(): void;
}

/** Starts a host in a child process (support/host-main.ts) and waits until it claims. */
export async function spawnHost(url: string, prefix: string, extra: Partial<HostOptions> = {}): Promise<HostProcess> {
  const { spawn } = await import('node:child_process');
  const { readFileSync } = await import('node:fs');
  const { constants } = await import('node:os');
  const stateDir = mkdtempSync(join(tmpdir(), 'burstlet-hostproc-'));
  const pidFile = join(stateDir, 'pids');
  const options = hostOptions({ redisUrl: url, keyPrefix: prefix, workerId: `p-${process.pid}-${++counter}`, stateDir, ...FAST, ...extra });
  const main = new URL('./host-main.ts', import.meta.url).pathname;
  const child = spawn(process.execPath, [main, JSON.stringify({ ...options, pidFile })], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number>((resolve) => child.once('exit', (code, signal) => resolve(code ?? 128 + (signal ? constants.signals[signal] : 0))));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    void exited.then((code) => reject(new Error(`host process exited with ${code} before it was ready`)));
  });
  const killPods = () => {
    let pids: string[] = [];
    try {
      pids = readFileSync(pidFile, 'utf8').split('\n').filter(Boolean);
    } catch {
      return;
    }
    for (const pid of pids) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  return {
    child, options, exited, killPods,
    cleanup: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      killPods();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/** A redis-server and a temp dir shared by a test file: started in before(), removed in after(). */
export interface FileEnv {
  readonly server: RedisServer;
  readonly redis: Redis;
  readonly dir: string;
}

export function useRedisAndDir(name: string): FileEnv {
  const env = {} as { server: RedisServer; redis: Redis; dir: string };
  before(async () => {
    env.server = await startRedis();
    env.redis = new Redis(env.server.url);
    env.dir = mkdtempSync(join(tmpdir(), `burstlet-${name}-`));
  });
  after(async () => {
    env.redis.disconnect();
    await env.server.stop();
    rmSync(env.dir, { recursive: true, force: true });
  });
  return env;
}

/** A pod command that runs until stopped. */
export const forever = ['sh', '-c', 'while true; do sleep 0.05; done'];

/** A pod command that runs until `file` exists. */
export const untilFile = (file: string) => ['sh', '-c', `while [ ! -e ${file} ]; do sleep 0.05; done`];

/** The BullMQ state of job `id`. */
export const jobState = async (queue: Queue, id: string) => (await Job.fromId(queue, id))?.getState();
