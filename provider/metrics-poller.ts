/**
 * Keeps the gauges of the provider's metrics current: pods on the node by phase (from the
 * informer's cache), jobs per pool and queue state, and live workers per pool. Polled (every
 * 5 s by default) rather than updated inline, so the hot paths never wait on Redis for it.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Keys } from '../src/keys.ts';
import type { KubeObject } from './kube-client.ts';
import type { ProviderMetrics } from './metrics.ts';
import type { PodQueues } from './queue.ts';
import { liveWorkers } from './worker-pool.ts';

const QUEUE_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed'] as const;

export interface MetricsPollerOptions {
  metrics: ProviderMetrics;
  pods(): KubeObject[];
  pools(): Promise<string[]>;
  queues: PodQueues;
  redis: Redis;
  keys: Keys;
  log: Logger;
  intervalMs?: number;
}

/** Updates the gauges once; never throws. */
export async function pollMetrics(o: MetricsPollerOptions): Promise<void> {
  try {
    const phases: Record<string, number> = {};
    for (const p of o.pods()) {
      const phase = p.status?.phase ?? 'Pending';
      phases[phase] = (phases[phase] ?? 0) + 1;
    }
    o.metrics.setPodPhases(phases);
    for (const pool of await o.pools()) {
      const counts = await o.queues.queue(pool).getJobCounts(...QUEUE_STATES);
      for (const state of QUEUE_STATES) o.metrics.queueDepth.set({ pool, state }, counts[state] ?? 0);
    }
    const perPool: Record<string, number> = {};
    for (const w of await liveWorkers(o.redis, o.keys)) perPool[w.pool] = (perPool[w.pool] ?? 0) + 1;
    o.metrics.workersLive.reset();
    for (const [pool, n] of Object.entries(perPool)) o.metrics.workersLive.set({ pool }, n);
  } catch (err) {
    o.log.debug({ err }, 'metrics poll failed');
  }
}

/** Polls until the returned stop function is called. */
export function startMetricsPoller(o: MetricsPollerOptions): () => void {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  // A poll in flight when stop() comes must not schedule another one.
  const next = () => {
    if (!stopped) timer = setTimeout(() => void pollMetrics(o).then(next), o.intervalMs ?? 5000);
  };
  void pollMetrics(o).then(next);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
