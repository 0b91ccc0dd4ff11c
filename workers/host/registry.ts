/**
 * The host's entry in the worker registry: `SET keys.worker(id) <WorkerInfo> PX 3×heartbeat`
 * plus `SADD keys.workers(pool) id`, refreshed every heartbeat with the current `used`.
 * A host that stops heartbeating (crash, lost network) disappears when its key expires;
 * a clean shutdown deletes the key and leaves the pool set at once.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Keys } from '../../src/keys.ts';
import type { Capacity, WorkerInfo } from '../../src/schema/worker.ts';

/** What the registry publishes besides `used`, `heartbeatAt`. */
export type StaticInfo = Omit<WorkerInfo, 'used' | 'heartbeatAt'>;

/** What the registry needs; `used` is called at every heartbeat and must be cheap. */
export interface RegistryOptions {
  redis: Redis;
  keys: Keys;
  info: StaticInfo;
  intervalMs: number;
  /** Current usage, read at every heartbeat. */
  used(): Capacity;
  log: Logger;
}

/** The least time between two published entries (beats asked for meanwhile are merged). */
const MIN_GAP_MS = 250;

export class Registry {
  readonly #o: RegistryOptions;
  #timer: NodeJS.Timeout | undefined;
  #beating: Promise<void> = Promise.resolve();
  #queued = false;
  #lastWrite = 0;

  constructor(options: RegistryOptions) {
    this.#o = options;
  }

  /** The entry as it is published now. */
  snapshot(): WorkerInfo {
    return { ...this.#o.info, used: this.#o.used(), heartbeatAt: Date.now() };
  }

  /** Publishes the entry (throws when Redis is unreachable) and starts the heartbeat. */
  async register(): Promise<void> {
    await this.#write();
    this.#schedule();
  }

  /** Publishes now (after a pod started or ended) instead of at the next tick. Never throws. */
  beat(): Promise<void> {
    // Beats asked for while one waits are the same beat: it reads `used` when it runs.
    // At most one write per MIN_GAP_MS: a busy host starts and ends dozens of pods a second.
    if (this.#queued) return this.#beating;
    this.#queued = true;
    this.#beating = this.#beating
      .then(() => new Promise((r) => setTimeout(r, Math.max(0, this.#lastWrite + MIN_GAP_MS - Date.now()))))
      .then(() => {
        this.#queued = false;
        this.#lastWrite = Date.now();
        return this.#write();
      })
      .catch((err) => {
        this.#o.log.warn({ err }, 'heartbeat failed; retrying at the next tick');
      });
    return this.#beating;
  }

  /** Stops heartbeating and removes the entry (clean shutdown). */
  async deregister(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#beating;
    const { redis, keys, info } = this.#o;
    await redis.multi().del(keys.worker(info.id)).srem(keys.workers(info.pool), info.id).exec();
  }

  /** Stops heartbeating and leaves the entry to expire (a crash). */
  abandon(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(): void {
    this.#timer = setTimeout(() => {
      void this.beat().then(() => {
        if (this.#timer) this.#schedule();
      });
    }, this.#o.intervalMs);
  }

  async #write(): Promise<void> {
    const { redis, keys, info, intervalMs } = this.#o;
    await redis
      .multi()
      .set(keys.worker(info.id), JSON.stringify(this.snapshot()), 'PX', intervalMs * 3)
      .sadd(keys.workers(info.pool), info.id)
      .exec();
  }
}
