/**
 * A worker host: registry + heartbeat, queue consumer, lock keeper, control stream and
 * reporter around one `PodRunner`. `WorkerHost.start` returns once the host is registered
 * and claiming; `shutdown` stops claiming, then finishes or hands back the running pods,
 * deregisters and closes every connection. It owns Redis; the runner never touches it.
 */
import { Worker } from 'bullmq';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { redisKeys, type Keys } from '../../src/keys.ts';
import type { WorkerInfo } from '../../src/schema/worker.ts';
import type { PodRunner } from '../pod-runner.ts';
import { detectAllocatable, Ledger } from './capacity.ts';
import { JobConsumer } from './consumer.ts';
import { ControlListener } from './control.ts';
import { LockKeeper } from './lock-keeper.ts';
import type { HostOptions, ShutdownMode } from './options.ts';
import { readopt } from './readopt.ts';
import { Registry } from './registry.ts';
import { RedisReporter } from './reporter.ts';

export const HOST_VERSION = '0.1.0';

interface Parts {
  o: HostOptions;
  keys: Keys;
  log: Logger;
  runner: PodRunner;
  redis: Redis;
  blocking: Redis;
  worker: Worker;
  ledger: Ledger;
  registry: Registry;
  reporter: RedisReporter;
  locks: LockKeeper;
  consumer: JobConsumer;
  control: ControlListener;
}

export class WorkerHost {
  readonly #p: Parts;
  #shutdown: Promise<void> | undefined;

  private constructor(parts: Parts) {
    this.#p = parts;
  }

  /** Connects, registers, re-adopts the runner's pods and starts claiming. */
  static async start(o: HostOptions, runner: PodRunner, log: Logger): Promise<WorkerHost> {
    const keys = redisKeys(o.keyPrefix);
    // Auto-pipelining: the events, logs and moves of many pods issued in one tick go out in
    // one write instead of one syscall each.
    const redis = new Redis(o.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true, enableAutoPipelining: true });
    redis.on('error', (err) => log.debug({ err }, 'redis connection error'));
    await redis.connect();
    const blocking = new Redis(o.redisUrl, { maxRetriesPerRequest: null });
    blocking.on('error', (err) => log.debug({ err }, 'redis connection error'));
    const worker = new Worker(keys.queue(o.pool), null, {
      connection: { url: o.redisUrl },
      prefix: keys.prefix,
      autorun: false,
      lockDuration: o.lockDurationMs,
      stalledInterval: o.stalledIntervalMs,
      maxStalledCount: o.maxStalledCount,
      drainDelay: o.drainDelaySeconds,
    });
    worker.on('error', (err) => log.warn({ err }, 'queue worker error'));
    worker.on('stalled', (jobId) => log.warn({ jobId }, 'a job stalled (its worker died); it is back in the queue'));
    await worker.waitUntilReady();
    const ledger = new Ledger(detectAllocatable(o.stateDir, o.allocatable, o.allocatable.pods ?? 110));
    const registry = new Registry({ redis, keys, info: staticInfo(o, ledger), intervalMs: o.heartbeatIntervalMs, used: () => ledger.used(), log });
    const reporter = new RedisReporter({ redis, keys, workerId: o.workerId, log });
    let consumer: JobConsumer | undefined;
    const locks = new LockKeeper({ worker, token: o.workerId, lockDurationMs: o.lockDurationMs, log, onLost: (uid) => consumer?.fence(uid) });
    const queueKey = `${keys.prefix}:${keys.queue(o.pool)}`;
    consumer = new JobConsumer({ worker, redis, keys, workerId: o.workerId, queueKey, runner, reporter, ledger, locks, registry, log, handbackDelayMs: o.handbackDelayMs });
    // The runtime keeps pods under <stateDir>/runtime/pods/<uid> (create-pod-runner.ts, runtime-service.ts).
    const podDir = (uid: string) => join(o.stateDir, 'runtime', 'pods', uid);
    const control = new ControlListener({ blocking, redis, keys, workerId: o.workerId, runner, log, podDir });
    const host = new WorkerHost({ o, keys, log, runner, redis, blocking, worker, ledger, registry, reporter, locks, consumer, control });
    await registry.register();
    locks.start();
    const c = consumer;
    const adopted = await readopt({ worker, runner, token: o.workerId, lockDurationMs: o.lockDurationMs, log, adopt: (job) => c.adopt(job) });
    await control.start();
    await worker.startStalledCheckTimer();
    consumer.start();
    log.info({ workerId: o.workerId, pool: o.pool, allocatable: ledger.allocatable, adopted: adopted.length }, 'worker host started');
    return host;
  }

  get id(): string {
    return this.#p.o.workerId;
  }

  /** The registry entry as published now. */
  info(): WorkerInfo {
    return this.#p.registry.snapshot();
  }

  /** Uids of the pods this host runs. */
  pods(): string[] {
    return this.#p.consumer.uids();
  }

  /**
   * Stops claiming, then `finish` (waits for the running pods to end) or `handback` (stops
   * them and returns their jobs to the queue for other hosts), deregisters and closes.
   * Idempotent: a second call returns the first one's promise.
   */
  shutdown(mode: ShutdownMode = this.#p.o.shutdown): Promise<void> {
    this.#shutdown ??= this.#close(mode);
    return this.#shutdown;
  }

  /**
   * Drops everything the way a crash does: no more claims, renewals, heartbeats or control
   * reads, connections closed, but jobs, locks, the registry entry and the runner's pods
   * are left as they are. For re-adoption tests, and for a host that must exit at once.
   */
  async abandon(): Promise<void> {
    const p = this.#p;
    this.#shutdown ??= Promise.resolve();
    p.consumer.abandon();
    p.locks.close();
    p.registry.abandon();
    p.reporter.close();
    const control = p.control.stop();
    p.redis.disconnect();
    p.blocking.disconnect();
    await Promise.all([control, p.worker.close(true)]);
  }

  async #close(mode: ShutdownMode): Promise<void> {
    const p = this.#p;
    p.log.info({ mode, pods: p.consumer.uids().length }, 'shutting down: no more claims');
    await p.consumer.stopClaiming();
    if (mode === 'finish') await p.consumer.waitAll();
    else await p.consumer.handBackAll((pod) => pod.terminationGracePeriodSeconds ?? p.o.handbackGraceSeconds);
    // Control stays up until here: stop and exec still work for pods that are finishing.
    await p.control.stop();
    p.locks.close();
    await p.reporter.drain(5_000);
    p.reporter.close();
    await p.registry.deregister().catch((err) => p.log.warn({ err }, 'deregister failed; the entry expires by itself'));
    await p.worker.close();
    await p.runner.close();
    p.blocking.disconnect();
    await p.redis.quit().catch(() => p.redis.disconnect());
    p.log.info('worker host stopped');
  }
}

/** Kubernetes names architectures the Go way (kubernetes.io/arch). */
const GO_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

function staticInfo(o: HostOptions, ledger: Ledger): Omit<WorkerInfo, 'used' | 'heartbeatAt'> {
  return {
    id: o.workerId,
    pool: o.pool,
    hostname: hostname(),
    os: process.platform,
    arch: GO_ARCH[process.arch] ?? process.arch,
    version: HOST_VERSION,
    labels: o.labels,
    allocatable: ledger.allocatable,
    startedAt: Date.now(),
    runtime: o.runtime,
  };
}
