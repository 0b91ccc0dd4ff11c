// A simulated worker host speaking the Redis contract (docs/redis-contracts.md): it claims a
// pod's job through BullMQ (manual fetch, as workers/host does), marks `keys.podWorker`,
// publishes PodEvent snapshots and completes the job. Real BullMQ and redis, no mocks.
import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Keys } from '../../../src/keys.ts';
import type { PodEvent } from '../../../src/schema/pod-event.ts';
import type { PodJob } from '../../../src/schema/pod-job.ts';
import { controlMessage, type ControlMessage } from '../../../src/schema/control.ts';
import { publishPodEvent, registerWorker } from './env.ts';

export class SimWorker {
  readonly id: string;
  readonly #redis: Redis;
  readonly #keys: Keys;
  readonly #worker: Worker;
  readonly #jobs = new Map<string, Job>();
  readonly #conn: Redis;

  constructor(redis: Redis, keys: Keys, id: string, pool = 'default') {
    this.id = id;
    this.#redis = redis;
    this.#keys = keys;
    // BullMQ does not close a connection it was given: keep it to close it ourselves.
    this.#conn = redis.duplicate({ maxRetriesPerRequest: null });
    this.#worker = new Worker(keys.queue(pool), null, { connection: this.#conn, prefix: keys.prefix, autorun: false, lockDuration: 60_000 });
  }

  register(): Promise<unknown> {
    return registerWorker(this.#redis, this.#keys, { id: this.id });
  }

  /** Claims the next job (waits for one); returns its PodJob. */
  async claim(): Promise<PodJob> {
    for (let i = 0; i < 400; i++) {
      const job = await this.#worker.getNextJob(this.id, { block: false });
      if (job) {
        this.#jobs.set(job.id!, job);
        await this.#redis.set(this.#keys.podWorker(job.id!), this.id);
        return job.data as PodJob;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('no job to claim');
  }

  /** Publishes a snapshot for a claimed pod. */
  publish(job: PodJob, e: Partial<PodEvent> & Pick<PodEvent, 'phase'>): Promise<PodEvent> {
    return publishPodEvent(this.#redis, this.#keys, { uid: job.uid, namespace: job.namespace, name: job.name, workerId: this.id, ...e });
  }

  async complete(uid: string): Promise<void> {
    await this.#jobs.get(uid)!.moveToCompleted({ phase: 'done' }, this.id, false);
  }

  /** Control messages sent to this worker so far. */
  async control(): Promise<ControlMessage[]> {
    const entries = await this.#redis.xrange(this.#keys.control(this.id), '-', '+');
    return entries.map(([, f]) => controlMessage(JSON.parse(f[1]!)));
  }

  async close(): Promise<void> {
    await this.#worker.close();
    this.#conn.disconnect();
  }
}

export const running = (name = 'c', startedAt = new Date().toISOString()) => ({
  name, ready: true, restartCount: 0, started: true, image: 'busybox', imageID: 'sha256:abc', containerID: 'burstlet://1',
  state: { running: { startedAt } }, lastState: {},
});

export const terminated = (name = 'c', exitCode = 0) => ({
  name, ready: false, restartCount: 0, started: false, image: 'busybox', imageID: 'sha256:abc', containerID: 'burstlet://1',
  state: { terminated: { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', startedAt: new Date().toISOString(), finishedAt: new Date().toISOString() } },
  lastState: {},
});
