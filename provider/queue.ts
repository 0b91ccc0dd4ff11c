/**
 * The provider's side of the BullMQ queues (one per pool, `keys.queue(pool)`): enqueue a
 * PodJob under jobId = pod UID (a second add of the same UID is a no-op), look a job up,
 * and remove one that no worker has claimed. An active job is locked by its worker and is
 * never removed from here — that pod is stopped through the worker's control stream.
 */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Keys } from '../src/keys.ts';
import type { PodJob } from '../src/schema/pod-job.ts';

export type JobState = 'waiting' | 'active' | 'delayed' | 'prioritized' | 'completed' | 'failed' | 'waiting-children' | 'missing';

/** Where a pod's job is: its pool and state, or 'missing'. */
export interface JobLocation {
  readonly pool: string;
  readonly state: JobState;
}

const ALL_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed', 'waiting-children'] as const;

export class PodQueues {
  readonly #redis: Redis;
  readonly #keys: Keys;
  readonly #queues = new Map<string, Queue>();

  /** `redis` is shared, not owned: close() leaves it open. */
  constructor(redis: Redis, keys: Keys) {
    this.#redis = redis;
    this.#keys = keys;
  }

  queue(pool: string): Queue {
    let q = this.#queues.get(pool);
    if (!q) {
      q = new Queue(this.#keys.queue(pool), { connection: this.#redis, prefix: this.#keys.prefix });
      this.#queues.set(pool, q);
    }
    return q;
  }

  /** Adds the job unless one with this UID exists in the pool (idempotent). */
  async enqueue(job: PodJob): Promise<void> {
    await this.queue(job.pool).add('pod', job, { jobId: job.uid, attempts: 1, removeOnComplete: false, removeOnFail: false });
  }

  /** The job's state in the first given pool holding it. */
  async locate(uid: string, pools: readonly string[]): Promise<JobLocation> {
    for (const pool of pools) {
      const job = await this.queue(pool).getJob(uid);
      if (job) {
        const state = await job.getState();
        return { pool, state: state === 'unknown' ? 'missing' : (state as JobState) };
      }
    }
    return { pool: pools[0] ?? 'default', state: 'missing' };
  }

  /** Removes the job unless a worker holds it; true when it is gone afterwards. */
  async remove(pool: string, uid: string): Promise<boolean> {
    const q = this.queue(pool);
    if (!(await q.getJob(uid))) return true;
    await q.remove(uid);
    return !(await q.getJob(uid));
  }

  /** Pools that have a queue in Redis (BullMQ keeps `<prefix>:<queue>:meta`), plus those used here. */
  async pools(): Promise<string[]> {
    const found = new Set(this.#queues.keys());
    const pattern = `${this.#keys.prefix}:${this.#keys.queue('*')}:meta`;
    let cursor = '0';
    do {
      const [next, batch] = await this.#redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      cursor = next;
      for (const key of batch) {
        const name = key.slice(this.#keys.prefix.length + 1, -':meta'.length);
        const pool = name.replace(/^pods-/, '');
        if (pool && this.#keys.queue(pool) === name) found.add(pool);
      }
    } while (cursor !== '0');
    return [...found].sort();
  }

  /** Every job id of a pool, in any state (for resync). */
  async jobIds(pool: string): Promise<string[]> {
    const jobs = await this.queue(pool).getJobs([...ALL_STATES], 0, -1);
    return jobs.filter((j) => j?.id).map((j) => j.id!);
  }

  async close(): Promise<void> {
    await Promise.all([...this.#queues.values()].map((q) => q.close()));
    this.#queues.clear();
  }
}
