/**
 * The response body of a container log: formats records, applies limitBytes, and batches
 * them into few large writes (one HTTP chunk per ~64 KiB or per idle moment instead of one
 * per line), waiting for the client when it reads slower than the log is produced.
 */
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import type { LogRecord } from '../../src/schema/streams.ts';
import { formatRecord } from './log-reader.ts';

const BATCH_BYTES = 64 * 1024;

export class LogBody {
  readonly stream = new PassThrough();
  readonly #timestamps: boolean;
  readonly #signal: AbortSignal;
  #budget: number;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #scheduled = false;

  constructor(options: { timestamps: boolean; limitBytes?: number; signal: AbortSignal }) {
    this.#timestamps = options.timestamps;
    this.#budget = options.limitBytes ?? Infinity;
    this.#signal = options.signal;
  }

  /** Adds one record; false once the byte limit is reached or the client left (stop reading). */
  readonly emit = (record: LogRecord): boolean | Promise<boolean> => {
    if (this.#signal.aborted) return false;
    const text = Buffer.from(formatRecord(record, this.#timestamps));
    const piece = text.length > this.#budget ? text.subarray(0, this.#budget) : text;
    this.#budget -= piece.length;
    this.#pending.push(piece);
    this.#pendingBytes += piece.length;
    if (this.#pendingBytes < BATCH_BYTES) {
      this.#schedule();
      return this.#budget > 0;
    }
    if (this.#flush()) return this.#budget > 0;
    return once(this.stream, 'drain', { signal: this.#signal }).then(() => this.#budget > 0, () => false);
  };

  /** Writes what is pending and ends the body. */
  end(): void {
    this.#flush();
    this.stream.end();
  }

  // Pending bytes go out once the reader pauses for I/O (next Redis read, follow wait).
  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      if (!this.stream.writableEnded) this.#flush();
    });
  }

  #flush(): boolean {
    if (this.#pending.length === 0) return true;
    const chunk = this.#pending.length === 1 ? this.#pending[0]! : Buffer.concat(this.#pending);
    this.#pending = [];
    this.#pendingBytes = 0;
    return this.stream.write(chunk);
  }
}
