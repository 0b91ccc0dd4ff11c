/**
 * The last hour of the charts' figures, sampled in memory: queue depth, pods started per
 * minute and enqueue→Running latency percentiles. Pure apart from the clock passed in.
 */
export interface Sample {
  /** ms since epoch, start of the interval. */
  t: number;
  queueDepth: number;
  started: number;
  p50?: number;
  p99?: number;
}

export const percentile = (sorted: readonly number[], p: number): number | undefined => {
  if (sorted.length === 0) return undefined;
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))];
};

export class History {
  readonly #samples: Sample[] = [];
  readonly #intervalMs: number;
  readonly #keep: number;
  #latencies: number[] = [];
  #started = 0;
  readonly #seen = new Set<string>();

  /** `intervalMs` per sample; keeps `windowMs` (default one hour). */
  constructor(intervalMs = 60_000, windowMs = 3_600_000) {
    this.#intervalMs = intervalMs;
    this.#keep = Math.ceil(windowMs / intervalMs);
  }

  /** Records a pod's first Running (idempotent per uid) with its enqueue→Running latency. */
  podStarted(uid: string, latencyMs: number | undefined): void {
    if (this.#seen.has(uid)) return;
    this.#seen.add(uid);
    this.#started++;
    if (latencyMs !== undefined && latencyMs >= 0) this.#latencies.push(latencyMs);
  }

  /** Closes the current interval with the queue depth observed now. */
  sample(now: number, queueDepth: number): Sample {
    const sorted = this.#latencies.sort((a, b) => a - b);
    const s: Sample = { t: now - (now % this.#intervalMs), queueDepth, started: this.#started, p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
    this.#samples.push(s);
    if (this.#samples.length > this.#keep) this.#samples.splice(0, this.#samples.length - this.#keep);
    this.#latencies = [];
    this.#started = 0;
    if (this.#seen.size > 100_000) this.#seen.clear();
    return s;
  }

  samples(): readonly Sample[] {
    return this.#samples;
  }
}
