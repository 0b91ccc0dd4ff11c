/**
 * Where a pod's create→Running time goes, from timestamps the pieces leave in Redis: the
 * BullMQ job's `timestamp` (provider enqueued) and `processedOn` (worker claimed), and the
 * `at` of the first Running PodEvent the worker published (events stream). All are this
 * host's Date.now(), so they compare with the bench's own wall-clock marks.
 */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Keys } from '../../src/keys.ts';
import { FIELD } from '../../src/streams.ts';

/** Per-stage durations (ms), one entry per pod that has every mark. */
export interface Stages {
  /** API create → job enqueued: provider watch, translation, enqueue. */
  toEnqueued: number[];
  /** enqueued → claimed by the worker: queue wait and admission. */
  toClaimed: number[];
  /** claimed → worker reports Running: sandbox, snapshot, container create + start. */
  toWorkerRunning: number[];
  /** worker Running → Running seen on the watch: events stream, provider status write, watch. */
  toObserved: number[];
}

/** Builds the stage breakdown for pods by uid (`createdAt`/`observedAt` in Date.now() ms). */
export async function stageBreakdown(redis: Redis, keys: Keys, pods: { uid: string; createdAt: number; observedAt: number }[]): Promise<Stages> {
  // BullMQ does not close a connection it was given: this one is closed below, after the queue.
  const conn = redis.duplicate();
  const queue = new Queue(keys.queue('default'), { connection: conn, prefix: keys.prefix });
  const firstRunning = new Map<string, number>();
  try {
    let from = '-';
    for (;;) {
      const batch = (await redis.xrange(keys.events, from, '+', 'COUNT', 1000)) as [string, string[]][];
      for (const [, fields] of batch) {
        const e = JSON.parse(fields[fields.indexOf(FIELD) + 1]!) as { uid: string; phase: string; at: number };
        if (e.phase === 'Running' && !firstRunning.has(e.uid)) firstRunning.set(e.uid, e.at);
      }
      if (batch.length < 1000) break;
      from = `(${batch.at(-1)![0]}`;
    }
    const out: Stages = { toEnqueued: [], toClaimed: [], toWorkerRunning: [], toObserved: [] };
    for (const p of pods) {
      const job = await queue.getJob(p.uid);
      const running = firstRunning.get(p.uid);
      if (!job?.processedOn || running === undefined) continue;
      out.toEnqueued.push(job.timestamp - p.createdAt);
      out.toClaimed.push(job.processedOn - job.timestamp);
      out.toWorkerRunning.push(running - job.processedOn);
      out.toObserved.push(p.observedAt - running);
    }
    return out;
  } finally {
    await queue.close();
    conn.disconnect();
  }
}
