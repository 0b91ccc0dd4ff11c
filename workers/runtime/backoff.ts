/**
 * CrashLoopBackOff the kubelet way: the first restart is immediate, then 10 s doubling up to
 * 5 min; a container that ran for 10 min resets its back-off. The base, cap and reset are
 * configurable so tests run fast.
 */
export interface BackoffTiming {
  baseMs: number;
  maxMs: number;
  resetMs: number;
}

export const KUBELET_BACKOFF: BackoffTiming = { baseMs: 10_000, maxMs: 300_000, resetMs: 600_000 };

export class CrashBackoff {
  readonly #t: BackoffTiming;
  #failures = 0;

  constructor(timing: BackoffTiming = KUBELET_BACKOFF) {
    this.#t = timing;
  }

  /** Delay before the next start of a container that ran for `ranMs` and exited. */
  next(ranMs: number): number {
    if (ranMs >= this.#t.resetMs) this.#failures = 0;
    const n = this.#failures++;
    return n === 0 ? 0 : Math.min(this.#t.baseMs * 2 ** (n - 1), this.#t.maxMs);
  }
}
