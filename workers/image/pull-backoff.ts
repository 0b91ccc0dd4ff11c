// The kubelet's image pull back-off: after a failed pull of an image, further pulls of it
// fail fast with ImagePullBackOff until the delay passes; the delay starts at 10 s and
// doubles up to 5 min; a success or a long quiet period resets it.
import { BurstletError } from '../../src/errors.ts';

export const INITIAL_BACKOFF_MS = 10_000;
export const MAX_BACKOFF_MS = 300_000;

interface Entry {
  delay: number;
  until: number;
  lastError: string;
}

/** Per-image back-off state; `now` is injectable so tests never wait on the clock. */
export class PullBackoff {
  #entries = new Map<string, Entry>();
  #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Throws IMAGE_PULL_BACKOFF while `image` is backing off. */
  check(image: string): void {
    const e = this.#entries.get(image);
    if (!e) return;
    const left = e.until - this.#now();
    if (left > 0) {
      throw new BurstletError('IMAGE_PULL_BACKOFF', `Back-off pulling image "${image}" (retry in ${Math.ceil(left / 1000)}s): ${e.lastError}`, {
        details: { image, retryInMs: left },
      });
    }
  }

  /** Records a failed pull and returns the new delay in ms. */
  failed(image: string, error: string): number {
    const e = this.#entries.get(image);
    const now = this.#now();
    // Like the kubelet's flowcontrol.Backoff: a failure long after the last one starts over.
    const fresh = !e || now - e.until > 2 * MAX_BACKOFF_MS;
    const delay = fresh ? INITIAL_BACKOFF_MS : Math.min(e.delay * 2, MAX_BACKOFF_MS);
    this.#entries.set(image, { delay, until: now + delay, lastError: error });
    return delay;
  }

  succeeded(image: string): void {
    this.#entries.delete(image);
  }
}
