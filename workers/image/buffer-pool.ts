// Recycled fixed-size buffers for blob bytes. Every fresh buffer is fresh pages, and the
// page faults of ~200 MB of them per pull cost more CPU than hashing and writing the bytes
// (measured in bench/pull.ts); reusing a few MiB of buffers avoids them.

/**
 * A free list of `size`-byte buffers with holder counts. Giving buffers back is optional:
 * a buffer never released is simply collected by the GC. A holder must release only once it
 * no longer reads the bytes, since the buffer is then refilled. Single-threaded use only.
 */
export class BufferPool {
  readonly size: number;
  #free: ArrayBuffer[] = [];
  #max: number;
  #holders = new WeakMap<ArrayBufferLike, number>();

  constructor(size: number, max: number) {
    this.size = size;
    this.#max = max;
  }

  /** A `size`-byte buffer with one holder (the caller). */
  take(): Buffer {
    const ab = this.#free.pop() ?? new ArrayBuffer(this.size);
    this.#holders.set(ab, 1);
    return Buffer.from(ab, 0, this.size);
  }

  /** One more holder of the pool buffer `view` lies in (no-op for other buffers). */
  retain(view: Uint8Array): void {
    const n = this.#holders.get(view.buffer);
    if (n !== undefined) this.#holders.set(view.buffer, n + 1);
  }

  /** Drops one holder of the pool buffer `view` lies in; the last gives it back. No-op for other buffers. */
  release(view: Uint8Array): void {
    const n = this.#holders.get(view.buffer);
    if (n === undefined) return;
    if (n > 1) return void this.#holders.set(view.buffer, n - 1);
    this.#holders.delete(view.buffer);
    if (this.#free.length < this.#max) this.#free.push(view.buffer as ArrayBuffer);
  }
}

let shared: BufferPool | undefined;

/** The process-wide pool for blob bytes: 256 KiB buffers, at most 64 kept (16 MiB). */
export function blobBuffers(): BufferPool {
  return (shared ??= new BufferPool(256 << 10, 64));
}
