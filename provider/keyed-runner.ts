/**
 * Runs work per key one at a time, coalescing: kicking a key while its work runs makes it
 * run once more afterwards, however many kicks came in (the workqueue of client-go
 * controllers, without the rate limiting — the API client limits requests).
 */
export class KeyedRunner {
  readonly #work: (key: string) => Promise<void>;
  readonly #onError: (key: string, err: unknown) => void;
  readonly #running = new Map<string, Promise<void>>();
  readonly #dirty = new Set<string>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  #closed = false;

  constructor(work: (key: string) => Promise<void>, onError: (key: string, err: unknown) => void) {
    this.#work = work;
    this.#onError = onError;
  }

  /** Schedules the key's work now (or right after the current run). Never blocks. */
  kick(key: string): void {
    if (this.#closed) return;
    if (this.#running.has(key)) {
      this.#dirty.add(key);
      return;
    }
    const run = (async () => {
      do {
        this.#dirty.delete(key);
        try {
          await this.#work(key);
        } catch (err) {
          this.#onError(key, err);
        }
      } while (this.#dirty.has(key) && !this.#closed);
      this.#running.delete(key);
    })();
    this.#running.set(key, run);
  }

  /** Kicks the key after `ms` (replacing an earlier timer of the key). */
  kickAfter(key: string, ms: number): void {
    if (this.#closed) return;
    clearTimeout(this.#timers.get(key));
    this.#timers.set(key, setTimeout(() => {
      this.#timers.delete(key);
      this.kick(key);
    }, ms));
  }

  /** True while the key's work runs or is due to run again. */
  busy(key: string): boolean {
    return this.#running.has(key) || this.#dirty.has(key);
  }

  /** Cancels a pending delayed kick. */
  cancel(key: string): void {
    clearTimeout(this.#timers.get(key));
    this.#timers.delete(key);
  }

  /** Resolves when no work is running (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.#running.size) await Promise.all([...this.#running.values()]);
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
    await this.idle();
  }
}
