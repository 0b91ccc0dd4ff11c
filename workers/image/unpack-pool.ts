// Runs layer unpacking on worker threads, so decompression, hashing and file writes of
// several layers use every core while the main thread keeps downloading.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { BurstletError, type ErrorCode } from '../../src/errors.ts';
import { TapAbandoned, type ChunkTap } from './blob-tap.ts';
import { blobBuffers } from './buffer-pool.ts';
import type { ApplyOptions, ApplyResult } from './layer-applier.ts';
import { unpackLayer } from './layer-unpacker.ts';
import type { FromWorker, ToWorker } from './unpack-worker.ts';

const AHEAD = 1 << 20; // bytes posted to a worker and not yet consumed
const BATCH = 256 << 10; // bytes gathered per message

interface Task {
  resolve(r: ApplyResult): void;
  reject(e: Error): void;
  acked: number;
  wakeWriter?: () => void;
}

interface Slot {
  worker: Worker;
  tasks: Map<number, Task>;
}

/**
 * Worker threads for a host with cores to spare. With two cores or fewer, unpacking stays
 * in this thread: inflate already runs on libuv's pool, and workers would only add their
 * start-up (~0.3 CPU-s each) and a copy of every byte. Measured with `npm run bench -- pull`
 * on 2 cores: 2.6 vs 3.5 CPU-s and 176 vs 280 MB peak RSS per pull, in-thread vs 2 workers.
 */
export function defaultUnpackThreads(cores = availableParallelism()): number {
  return cores <= 2 ? 0 : Math.min(4, cores);
}

/**
 * A lazily started pool of `size` unpack workers (0: unpack in this thread). Tasks are
 * spread over the workers and run concurrently inside each. Idle workers do not keep the
 * process alive. close() terminates them.
 */
export class UnpackPool {
  #slots: Slot[] = [];
  #size: number;
  #next = 0;
  #ids = 0;

  constructor(size = defaultUnpackThreads()) {
    this.#size = Math.max(0, size);
  }

  /**
   * Unpacks `blob` (a stored file, or a live download's tap) on a worker. Rejects with the
   * worker's BurstletError, or TapAbandoned when the live stream broke off.
   */
  unpack(blob: string | ChunkTap, diffId: string, options: ApplyOptions): Promise<ApplyResult> {
    if (this.#size === 0) return unpackLayer(blob, diffId, options);
    const slot = this.#slot();
    const id = ++this.#ids;
    return new Promise<ApplyResult>((resolve, reject) => {
      const task: Task = { resolve, reject, acked: 0 };
      slot.tasks.set(id, task);
      slot.worker.ref();
      const run: ToWorker = { type: 'run', id, blob: typeof blob === 'string' ? blob : null, diffId, options };
      slot.worker.postMessage(run);
      if (typeof blob !== 'string') void this.#pump(slot, id, task, blob);
    }).finally(() => {
      slot.tasks.delete(id);
      if (slot.tasks.size === 0) slot.worker.unref();
    });
  }

  /** Forwards the tap's chunks to the worker, never more than AHEAD bytes unconsumed. */
  async #pump(slot: Slot, id: number, task: Task, tap: ChunkTap): Promise<void> {
    let posted = 0;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    // Chunks may view larger pooled buffers, which cloning would copy whole: they are
    // gathered into one exact buffer that is transferred, not cloned (fewer, larger messages).
    const flush = () => {
      if (pendingBytes === 0) return;
      const batch = Buffer.allocUnsafeSlow(pendingBytes);
      let off = 0;
      for (const c of pending) {
        off += c.copy(batch, off);
        blobBuffers().release(c); // copied: the download may reuse it
      }
      const bytes = new Uint8Array(batch.buffer, 0, pendingBytes);
      slot.worker.postMessage({ type: 'data', id, chunk: bytes } satisfies ToWorker, [batch.buffer]);
      posted += pendingBytes;
      pending = [];
      pendingBytes = 0;
    };
    try {
      for await (const chunk of tap) {
        if (!slot.tasks.has(id)) return tap.cancel();
        pending.push(chunk);
        pendingBytes += chunk.length;
        if (pendingBytes < BATCH) continue;
        flush();
        while (posted - task.acked > AHEAD && slot.tasks.has(id)) await new Promise<void>((r) => (task.wakeWriter = r));
      }
      flush();
      slot.worker.postMessage({ type: 'end', id } satisfies ToWorker);
    } catch (err) {
      slot.worker.postMessage({ type: 'abandon', id, why: (err as Error).message } satisfies ToWorker);
    }
  }

  #slot(): Slot {
    if (this.#slots.length < this.#size) {
      // A small young generation: chunk garbage is collected early instead of piling up.
      const worker = new Worker(new URL('./unpack-worker.ts', import.meta.url), { resourceLimits: { maxYoungGenerationSizeMb: 4 } });
      const slot: Slot = { worker, tasks: new Map() };
      worker.on('message', (m: FromWorker) => this.#message(slot, m));
      worker.on('error', (err) => this.#fail(slot, err));
      worker.on('exit', (code) => this.#fail(slot, new Error(`unpack worker exited with code ${code}`)));
      worker.unref();
      this.#slots.push(slot);
      return slot;
    }
    return this.#slots[this.#next++ % this.#slots.length];
  }

  #message(slot: Slot, m: FromWorker): void {
    const task = slot.tasks.get(m.id);
    if (!task) return;
    if (m.type === 'ack') {
      task.acked += m.bytes;
      task.wakeWriter?.();
      task.wakeWriter = undefined;
    } else if (m.type === 'done') {
      task.resolve(m.result as ApplyResult);
    } else {
      const e = m.error;
      if (e.name === 'BurstletError') task.reject(new BurstletError(e.code as ErrorCode, e.message, { details: e.details }));
      else if (e.name === 'TapAbandoned') task.reject(new TapAbandoned(e.message));
      else task.reject(new BurstletError('IMAGE_PULL_FAILED', e.message));
      task.wakeWriter?.();
    }
  }

  #fail(slot: Slot, err: Error): void {
    this.#slots = this.#slots.filter((s) => s !== slot);
    for (const task of slot.tasks.values()) {
      task.reject(err);
      task.wakeWriter?.();
    }
    slot.tasks.clear();
  }

  /** Stops every worker (pending tasks fail). */
  async close(): Promise<void> {
    const slots = this.#slots;
    this.#slots = [];
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }
}

let shared: UnpackPool | undefined;

/** The process-wide pool every ImageService uses (workers start on first use). */
export function sharedUnpackPool(): UnpackPool {
  return (shared ??= new UnpackPool());
}
