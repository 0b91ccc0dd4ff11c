// Worker-thread side of the unpack pool: runs unpackLayer() for tasks posted by
// unpack-pool.ts, reading either a stored blob or a stream of chunks the main thread
// forwards from a live download (acknowledged, so the main thread can apply backpressure).
import { parentPort } from 'node:worker_threads';
import { BurstletError } from '../../src/errors.ts';
import { TapAbandoned } from './blob-tap.ts';
import type { ApplyOptions } from './layer-applier.ts';
import { unpackLayer } from './layer-unpacker.ts';

/** Messages from the pool. */
export type ToWorker =
  | { type: 'run'; id: number; blob: string | null; diffId: string; options: ApplyOptions }
  | { type: 'data'; id: number; chunk: Uint8Array }
  | { type: 'end'; id: number }
  | { type: 'abandon'; id: number; why: string };

/** Messages to the pool. */
export type FromWorker =
  | { type: 'ack'; id: number; bytes: number }
  | { type: 'done'; id: number; result: unknown }
  | { type: 'error'; id: number; error: { name: string; message: string; code?: string; details?: Record<string, unknown> } };

/** Chunks posted by the main thread, as an async iterable for unpackLayer(). */
class PostedStream implements AsyncIterable<Buffer> {
  chunks: Buffer[] = [];
  ended = false;
  abandoned: string | undefined;
  wake: (() => void) | undefined;
  readonly id: number;
  constructor(id: number) {
    this.id = id;
  }

  push(): void {
    this.wake?.();
    this.wake = undefined;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    for (;;) {
      if (this.abandoned !== undefined) throw new TapAbandoned(this.abandoned);
      const chunk = this.chunks.shift();
      if (chunk) {
        yield chunk;
        post({ type: 'ack', id: this.id, bytes: chunk.length });
        continue;
      }
      if (this.ended) return;
      await new Promise<void>((r) => (this.wake = r));
    }
  }
}

const streams = new Map<number, PostedStream>();

function post(message: FromWorker): void {
  parentPort!.postMessage(message);
}

async function run(task: Extract<ToWorker, { type: 'run' }>): Promise<void> {
  let source: string | PostedStream = task.blob ?? '';
  if (task.blob === null) {
    source = new PostedStream(task.id);
    streams.set(task.id, source);
  }
  try {
    const result = await unpackLayer(source, task.diffId, task.options);
    post({ type: 'done', id: task.id, result });
  } catch (err) {
    const e = err as Error & { code?: string; details?: Record<string, unknown> };
    const name = err instanceof BurstletError ? 'BurstletError' : err instanceof TapAbandoned ? 'TapAbandoned' : 'Error';
    post({ type: 'error', id: task.id, error: { name, message: e.message, code: e.code, details: e.details ? { ...e.details } : undefined } });
  } finally {
    streams.delete(task.id);
  }
}

parentPort!.on('message', (m: ToWorker) => {
  if (m.type === 'run') {
    void run(m);
    return;
  }
  const s = streams.get(m.id);
  if (!s) return;
  if (m.type === 'data') s.chunks.push(Buffer.from(m.chunk.buffer, m.chunk.byteOffset, m.chunk.byteLength));
  else if (m.type === 'end') s.ended = true;
  else s.abandoned = m.why;
  s.push();
});
