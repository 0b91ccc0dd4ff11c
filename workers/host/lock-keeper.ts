/**
 * Keeps the BullMQ locks of the jobs whose pods run here. A pod runs for as long as it
 * likes, far beyond one lock duration, so the host renews every held lock each
 * `lockDurationMs / 3` in one `extendLocks` call.
 *
 * Fencing: a job whose lock could not be renewed (another host took it) or that has not
 * been renewed for `lockDurationMs - renewEvery` (Redis unreachable: the lock is about to
 * expire and the stalled check will hand the job to another host) is reported through
 * `onLost` once, so the host stops its copy of the pod before another one can start.
 */
import type { Worker } from 'bullmq';
import type { Logger } from 'pino';

/** The BullMQ worker whose locks are renewed, the host's token and what to do on loss (must not block). */
export interface LockKeeperOptions {
  worker: Pick<Worker, 'extendJobLocks'>;
  token: string;
  lockDurationMs: number;
  log: Logger;
  /** Called once per job whose lock is lost or about to be. */
  onLost(jobId: string, why: string): void;
}

export class LockKeeper {
  readonly #o: LockKeeperOptions;
  readonly #renewedAt = new Map<string, number>();
  /** Jobs being completed or handed back by us: their lock goes away with that move. */
  readonly #settling = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: LockKeeperOptions) {
    this.#o = options;
  }

  get renewEveryMs(): number {
    return Math.floor(this.#o.lockDurationMs / 3);
  }

  start(): void {
    this.#closed = false;
    this.#schedule();
  }

  /** Starts renewing a job's lock (the caller holds it now). */
  track(jobId: string): void {
    this.#renewedAt.set(jobId, Date.now());
  }

  untrack(jobId: string): void {
    this.#renewedAt.delete(jobId);
    this.#settling.delete(jobId);
  }

  /**
   * The host is completing or returning the job now: a renewal that fails from here on saw
   * our own move release the lock, not another host take it — no fencing for it.
   */
  settling(jobId: string): void {
    if (this.#renewedAt.has(jobId)) this.#settling.add(jobId);
  }

  holds(jobId: string): boolean {
    return this.#renewedAt.has(jobId);
  }

  /** Renews every tracked lock now; exposed for tests. */
  async renew(): Promise<void> {
    const ids = [...this.#renewedAt.keys()];
    if (ids.length === 0) return;
    const { worker, token, lockDurationMs, log } = this.#o;
    const startedAt = Date.now();
    let failed: string[];
    try {
      // BullMQ's connection queues commands while Redis is away: bound the wait, or the
      // fencing below would never run.
      failed = await withTimeout(worker.extendJobLocks(ids, ids.map(() => token), lockDurationMs), this.renewEveryMs);
    } catch (err) {
      log.warn({ err }, 'lock renewal failed; pods are stopped if it keeps failing');
      this.#fenceOverdue();
      return;
    }
    for (const id of ids) {
      if (!this.#renewedAt.has(id)) continue;
      if (failed.includes(id) && this.#settling.has(id)) continue;
      if (failed.includes(id)) this.#lose(id, 'lock held by another worker or expired');
      else this.#renewedAt.set(id, startedAt);
    }
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
  }

  #fenceOverdue(): void {
    const deadline = Date.now() - (this.#o.lockDurationMs - this.renewEveryMs);
    for (const [id, at] of this.#renewedAt) if (at < deadline) this.#lose(id, 'lock not renewed in time (Redis unreachable)');
  }

  #lose(jobId: string, why: string): void {
    this.#renewedAt.delete(jobId);
    this.#o.log.warn({ jobId, why }, 'lost the lock of a running pod; stopping it here');
    this.#o.onLost(jobId, why);
  }

  #schedule(): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => {
      void this.renew().finally(() => this.#schedule());
    }, this.renewEveryMs);
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from Redis within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
