/**
 * A token bucket like client-go's flowcontrol limiter: `qps` tokens per second, at most
 * `burst` saved up. @kubernetes/client-node has no limiter of its own, so every request of
 * the provider's Kubernetes client waits here first. Unlike client-go's, waiters may be
 * urgent: the next token goes to the oldest urgent waiter before any other — the provider's
 * status writes finish pods that already run, so they never queue behind new pods' reads.
 */
export interface RateLimiter {
  /**
   * Resolves when one request may go; urgent waiters first, each kind in arrival order.
   * Never rejects.
   */
  take(urgent?: boolean): Promise<void>;
  /** Takes a token only if one is available now and nobody waits (never blocks). */
  tryTake(): boolean;
}

export class TokenBucket implements RateLimiter {
  readonly #qps: number;
  readonly #burst: number;
  readonly #now: () => number;
  #tokens: number;
  #last: number;
  #queue: (() => void)[] = [];
  #urgent: (() => void)[] = [];
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

  take(urgent = false): Promise<void> {
    if (this.tryTake()) return Promise.resolve();
    return new Promise((resolve) => {
      (urgent ? this.#urgent : this.#queue).push(resolve);
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
    return this.#queue.length + this.#urgent.length;
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
        (this.#urgent.shift() ?? this.#queue.shift())!();
      }
      if (this.#waiting() > 0) this.#schedule();
    }, wait);
  }
}
