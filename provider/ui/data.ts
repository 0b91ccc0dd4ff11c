/**
 * Reads what the UI shows from Redis: the worker registry, queue counts and log tails.
 * Every value read is validated; a malformed registry entry is skipped and logged.
 */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Keys } from '../../src/keys.ts';
import type { Logger } from '../../src/log.ts';
import { logRecord, type LogRecord } from '../../src/schema/streams.ts';
import { workerInfo, type WorkerInfo } from '../../src/schema/worker.ts';
import { FIELD } from '../../src/streams.ts';

export interface WorkerView extends WorkerInfo {
  heartbeatAgeMs: number;
}

/** Live workers of the given pools (their heartbeat key has not expired). */
export async function listWorkers(redis: Redis, keys: Keys, pools: readonly string[], log: Logger, now = Date.now()): Promise<WorkerView[]> {
  const ids = new Set<string>();
  for (const pool of pools) for (const id of await redis.smembers(keys.workers(pool))) ids.add(id);
  if (ids.size === 0) return [];
  const list = [...ids];
  const values = await redis.mget(...list.map((id) => keys.worker(id)));
  const out: WorkerView[] = [];
  values.forEach((raw, i) => {
    if (raw === null) return;
    try {
      const info = workerInfo(JSON.parse(raw));
      out.push({ ...info, heartbeatAgeMs: Math.max(0, now - info.heartbeatAt) });
    } catch (err) {
      log.warn({ key: keys.worker(list[i]!), err: (err as Error).message }, 'malformed worker registration skipped');
    }
  });
  return out.sort((a, b) => a.id.localeCompare(b.id));
}

export interface QueueView {
  name: string;
  counts: Record<string, number>;
}

export const COUNT_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed', 'waiting-children'] as const;

export async function queueViews(queues: readonly Queue[]): Promise<QueueView[]> {
  return Promise.all(queues.map(async (q) => ({ name: q.name, counts: await q.getJobCounts(...COUNT_STATES) })));
}

/** Jobs waiting to be claimed, over every queue (waiting + prioritized + delayed). */
export const queueDepth = (views: readonly QueueView[]) =>
  views.reduce((n, v) => n + (v.counts.waiting ?? 0) + (v.counts.prioritized ?? 0) + (v.counts.delayed ?? 0), 0);

/** The last `count` log records of a container, oldest first; malformed records are skipped. */
export async function logTail(redis: Redis, keys: Keys, uid: string, container: string, count = 200): Promise<LogRecord[]> {
  const entries = await redis.xrevrange(keys.logs(uid, container), '+', '-', 'COUNT', count);
  const out: LogRecord[] = [];
  for (const [, fields] of entries.reverse()) {
    const i = fields.indexOf(FIELD);
    try {
      out.push(logRecord(JSON.parse(fields[i + 1] ?? '')));
    } catch {
      // skipped: the log stream's reader in the kubelet API dead-letters malformed records
    }
  }
  return out;
}
