/**
 * Settings of a worker host, with the defaults a production host uses. Tests shrink the
 * intervals (lockDurationMs, stalledIntervalMs, heartbeatIntervalMs) to stay fast.
 */
import type { Capacity } from '../../src/schema/worker.ts';

export type ShutdownMode = 'finish' | 'handback';

/** Every setting of a host; build it with `hostOptions` (defaults) or `hostOptionsFromSettings` (CLI). */
export interface HostOptions {
  /** Redis URL (redis:// or rediss://). */
  redisUrl: string;
  keyPrefix: string;
  pool: string;
  /** Stable across restarts so a restarted host can re-adopt its pods (see worker-id.ts). */
  workerId: string;
  stateDir: string;
  labels: Record<string, string>;
  /** Overrides of the detected allocatable resources. */
  allocatable: Partial<Capacity>;
  /** Name of the runtime, shown in the registry. */
  runtime: string;
  heartbeatIntervalMs: number;
  /**
   * BullMQ lock of a running pod's job. The host renews it every lockDurationMs / 3 and stops
   * a pod whose lock it could not renew for lockDurationMs (another host may run it by then).
   */
  lockDurationMs: number;
  /** How often any host looks for jobs whose lock expired (their host died). */
  stalledIntervalMs: number;
  /** A job that stalled more often than this fails (a pod that keeps killing its hosts). */
  maxStalledCount: number;
  /** A job that does not fit waits this long in BullMQ's delayed set before it is offered again. */
  handbackDelayMs: number;
  /** Longest blocking wait for a job; bounds how long `shutdown` waits for the claim loop. */
  drainDelaySeconds: number;
  shutdown: ShutdownMode;
  /** Grace period for pods stopped by a `handback` shutdown when the pod names none. */
  handbackGraceSeconds: number;
}

export const HOST_DEFAULTS = {
  keyPrefix: 'burstlet',
  pool: 'default',
  labels: {},
  allocatable: {},
  runtime: 'burstlet',
  heartbeatIntervalMs: 5_000,
  lockDurationMs: 30_000,
  stalledIntervalMs: 15_000,
  maxStalledCount: 5,
  handbackDelayMs: 2_000,
  drainDelaySeconds: 2,
  shutdown: 'handback',
  handbackGraceSeconds: 30,
} as const satisfies Partial<HostOptions>;

/** Fills in defaults; `redisUrl`, `workerId` and `stateDir` have none. */
export function hostOptions(given: Partial<HostOptions> & Pick<HostOptions, 'redisUrl' | 'workerId' | 'stateDir'>): HostOptions {
  const merged: HostOptions = { ...HOST_DEFAULTS, labels: {}, allocatable: {}, ...given };
  if (merged.lockDurationMs < 300) throw new Error('lockDurationMs must be at least 300');
  return merged;
}

/** The `burstlet worker` settings the host reads (src/config/commands.ts workerSpec). */
export interface WorkerSettings {
  redis?: string;
  keyPrefix: string;
  pool: string;
  workerId?: string;
  runtime: string;
  stateDir: string;
  cpu?: number;
  memory?: number;
  maxPods: number;
  labels: Record<string, string>;
  heartbeatInterval: number;
  shutdown: ShutdownMode;
}

/** Maps CLI/env/config-file settings onto host options; `workerId` is already resolved. */
export function hostOptionsFromSettings(v: WorkerSettings & { redis: string }, workerId: string): HostOptions {
  const allocatable: Partial<Capacity> = { pods: v.maxPods };
  if (v.cpu !== undefined) allocatable.cpuMillis = v.cpu;
  if (v.memory !== undefined) allocatable.memoryBytes = v.memory;
  return hostOptions({
    redisUrl: v.redis, keyPrefix: v.keyPrefix, pool: v.pool, workerId, stateDir: v.stateDir, labels: v.labels,
    allocatable, runtime: v.runtime, heartbeatIntervalMs: v.heartbeatInterval, shutdown: v.shutdown,
  });
}
