/**
 * A token bucket like client-go's flowcontrol limiter: `qps` tokens per second, at most
 * `burst` saved up. @kubernetes/client-node has no limiter of its own, so every request of
 * the provider's Kubernetes client waits here first. Unlike client-go's, waiters have a
 * priority: the next token goes to the oldest waiter of the highest priority — the provider
 * serves the requests closest to finishing a pod first (its final delete, then status
 * writes), so they never queue behind the reads and token requests of pods just created.
 */
export interface RateLimiter {
  /**
   * Resolves when one request may go; higher `priority` (0, 1, 2; default 0) first, each
   * priority in arrival order. Never rejects.
   */
  take(priority?: number): Promise<void>;
  /** Takes a token only if one is available now and nobody waits (never blocks). */
  tryTake(): boolean;
}

export class TokenBucket implements RateLimiter {
  readonly #qps: number;
  readonly #burst: number;
  readonly #now: () => number;
  #tokens: number;
  #last: number;
  // Waiters by priority (index); a small fixed number of levels.
  readonly #queues: (() => void)[][] = [[], [], []];
  #timer: NodeJS.Timeout | undefined;

  constructor(qps: number, burst: number, now: () => number = () => performance.now()) {
    if (!(qps > 0) || !(burst >= 1)) throw new Error(`invalid rate limit qps=${qps} burst=${burst}`);
    this.#qps = qps;
    this.#burst = burst;
    this.#now = now;
    this.#tokens = burst;
    this.#last = now();
  }

  /** Tokens available right now (refilled lazily). */
  available(): number {
    this.#refill();
    return this.#tokens;
  }

  take(priority = 0): Promise<void> {
    if (this.tryTake()) return Promise.resolve();
    return new Promise((resolve) => {
      this.#queues[Math.max(0, Math.min(this.#queues.length - 1, Math.trunc(priority)))]!.push(resolve);
      this.#schedule();
    });
  }

  tryTake(): boolean {
    this.#refill();
    if (this.#waiting() > 0 || this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  #waiting(): number {
    return this.#queues.reduce((n, q) => n + q.length, 0);
  }

  #next(): () => void {
    for (let p = this.#queues.length - 1; p > 0; p--) if (this.#queues[p]!.length) return this.#queues[p]!.shift()!;
    return this.#queues[0]!.shift()!;
  }

  #refill(): void {
    const now = this.#now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#last) / 1000) * this.#qps);
    this.#last = now;
  }

  // Wakes up when the next token is due and serves as many waiters as there are tokens.
  #schedule(): void {
    if (this.#timer) return;
    const wait = Math.max(1, Math.ceil(((1 - this.#tokens) / this.#qps) * 1000));
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#refill();
      while (this.#waiting() > 0 && this.#tokens >= 1) {
        this.#tokens -= 1;
        this.#next()();
      }
      if (this.#waiting() > 0) this.#schedule();
    }, wait);
  }
}
