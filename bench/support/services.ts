/**
 * The real pieces the end-to-end benches start: redis-server, the local registry holding
 * busybox as `library/busybox` (a docker.io mirror, as standalone mode does), and `burstlet
 * worker` / `burstlet provider` as child processes (their RSS is their own). Each start
 * registers its stop with the bench cleanup (cleanup.ts). Children run in their own process
 * group: a terminal Ctrl-C reaches only the bench, which then sends each child exactly one
 * SIGTERM (a second one would make the worker exit without stopping its pods).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { startExampleRegistry, startPrivateRedis } from '../../provider/standalone/services.ts';
import { redisKeys, type Keys } from '../../src/keys.ts';
import { stopChild } from '../../src/child-process.ts';
import { onCleanup, sweepWorkerState } from './cleanup.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Redis URL and registry host, both stopped by the cleanup. */
export async function startBaseServices(): Promise<{ redisUrl: string; registry: string }> {
  const redis = await startPrivateRedis();
  onCleanup('redis-server', () => redis.stop());
  const reg = await startExampleRegistry();
  onCleanup('registry', () => reg.stop());
  return { redisUrl: redis.url, registry: reg.host };
}

/**
 * Spawns `node src/cli/main.ts <args>` in its own process group; stderr is inherited. With
 * BENCH_CPU_PROF=DIR the child writes a V8 CPU profile there when it exits (where the time goes).
 */
export function spawnBurstlet(args: string[]): ChildProcess {
  const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const child = spawn(process.execPath, [...prof, join(root, 'src/cli/main.ts'), ...args], { stdio: ['ignore', 'ignore', 'inherit'], detached: true, cwd: root });
  child.once('exit', (code, sig) => {
    if (code !== 0 && sig !== 'SIGTERM' && code !== null) console.error(`burstlet ${args[0]} exited with ${code ?? sig}`);
  });
  return child;
}

export { stopChild };

export interface WorkerChildOptions {
  redisUrl: string;
  registry: string;
  keyPrefix: string;
  maxPods: number;
  network: 'host' | 'bridge';
  /** Pod cgroups (`/burstlet/<uid>`) of this run: the sweep removes only those. */
  ours: (cgroupName: string) => boolean;
}

export interface WorkerChild {
  child: ChildProcess;
  id: string;
  stateDir: string;
  keys: Keys;
}

/** Starts `burstlet worker` (runtime burstlet) and resolves once it is registered. */
export async function startWorker(o: WorkerChildOptions): Promise<WorkerChild> {
  const stateDir = await mkdtemp(join(tmpdir(), 'burstlet-bench-worker-'));
  const id = `bench-${process.pid}`;
  const keys = redisKeys(o.keyPrefix);
  onCleanup('worker state', () => sweepWorkerState(stateDir, o.ours));
  const child = spawnBurstlet([
    'worker', '--redis', o.redisUrl, '--key-prefix', o.keyPrefix, '--pool', 'default', '--worker-id', id,
    '--state-dir', stateDir, '--runtime', 'burstlet', '--network', o.network, '--max-pods', String(o.maxPods),
    '--registry-mirrors', `docker.io=${o.registry}`, '--insecure-registries', o.registry,
    '--shutdown', 'handback', '--log-level', 'warn', '--log-format', 'json',
  ]);
  // After a Ctrl-C redis may be gone already and the hand-back cannot finish: the sweep
  // (registered above, runs after this) removes what the worker leaves.
  onCleanup('worker', () => stopChild(child, 30_000));
  const redis = new Redis(o.redisUrl, { maxRetriesPerRequest: null });
  try {
    await waitFor('worker registered', async () => {
      if (child.exitCode !== null) throw new Error(`burstlet worker exited with ${child.exitCode}`);
      return (await redis.exists(keys.worker(id))) === 1;
    });
  } finally {
    redis.disconnect();
  }
  return { child, id, stateDir, keys };
}

/** Polls `check` every 20 ms until true; throws after `timeoutMs`. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 300_000, everyMs = 20): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** VmRSS and VmHWM of a process, in MB. */
export async function rssMb(pid: number): Promise<{ rss: number; peak: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const field = (f: string) => Number(new RegExp(`^${f}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) / 1024;
  return { rss: field('VmRSS'), peak: field('VmHWM') };
}

/** CPU time the whole machine spent busy so far (all CPUs, /proc/stat: everything but idle and iowait), in ms. */
export function machineBusyMs(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = f;
  return ((user + nice + system + irq + softirq + (steal || 0)) * 1000) / 100; // USER_HZ is 100 on Linux
}

export interface BlockIo { writes: number; discards: number; flushes: number }

/**
 * Write, discard and flush requests completed so far by the block device holding `path`
 * (/proc/diskstats; zeros where it is not a block device, e.g. a tmpfs). Every request is a
 * doorbell to the (virtual) disk, and a discard is synchronous: what a pod's file churn costs
 * beyond CPU.
 */
export function blockIo(path: string): BlockIo {
  const dev = statSync(path).dev;
  const [major, minor] = [Math.floor(dev / 256) & 0xfff, (dev & 0xff) | ((dev >> 12) & 0xfff00)];
  for (const line of readFileSync('/proc/diskstats', 'utf8').split('\n')) {
    const f = line.trim().split(/\s+/);
    if (Number(f[0]) === major && Number(f[1]) === minor) {
      return { writes: Number(f[7]) || 0, discards: Number(f[14]) || 0, flushes: Number(f[18]) || 0 };
    }
  }
  return { writes: 0, discards: 0, flushes: 0 };
}

/** `b - a` per `n` (requests per pod or run). */
export const blockIoPer = (a: BlockIo, b: BlockIo, n: number): BlockIo =>
  ({ writes: (b.writes - a.writes) / n, discards: (b.discards - a.discards) / n, flushes: (b.flushes - a.flushes) / n });

/** CPU time (ms) of each thread of process `pid`, by thread name, split user/system (/proc/<pid>/task/<tid>/stat). */
export function threadCpuMs(pid: number): Map<string, { user: number; sys: number }> {
  const out = new Map<string, { user: number; sys: number }>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let stat: string;
    try { stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'); } catch { continue; }
    const name = tid === String(pid) ? 'main' : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const t = out.get(name) ?? { user: 0, sys: 0 };
    t.user += (Number(f[11]) * 1000) / 100;
    t.sys += (Number(f[12]) * 1000) / 100;
    out.set(name, t);
  }
  return out;
}

/** CPU time process `pid` itself (all its threads, not its children) has used so far, in ms (/proc/<pid>/stat utime + stime). */
export function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from 3 (state) on
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime, stime (fields 14, 15) in USER_HZ
}
