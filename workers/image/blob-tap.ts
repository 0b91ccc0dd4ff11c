// Lets a layer unpack while its blob is still downloading: the content store writes each
// chunk to disk and into the tap; the unpacker reads the tap as a stream. The tap gives up
// (and the unpacker falls back to the stored file) when the transfer resumes mid-way, when
// the blob was already stored, or when nobody reads it in time.

/** The producer side, used by the content store. Never throws. */
export interface BlobTap {
  /** Resolves when the chunk is queued (waits while the reader is behind). */
  write(chunk: Uint8Array): Promise<void>;
  /** All bytes were written (they still have to pass the store's verification). */
  end(): void;
  /** The stream cannot be trusted to be whole; the reader should use the file. */
  abandon(why: string): void;
}

/** Thrown to the reader when the tap was abandoned. */
export class TapAbandoned extends Error {
  override name = 'TapAbandoned';
}

const UNATTACHED_LIMIT = 8 << 20; // bytes buffered before a reader shows up
const ATTACHED_LIMIT = 1 << 20; // bytes buffered ahead of an attached reader

/** A bounded single-reader queue of chunks. */
export class ChunkTap implements BlobTap, AsyncIterable<Buffer> {
  #chunks: Buffer[] = [];
  #bytes = 0;
  #attached = false;
  #ended = false;
  #abandoned: string | undefined;
  #cancelled = false;
  #wakeReader: (() => void) | undefined;
  #wakeWriter: (() => void) | undefined;

  /** True once the tap gave up; the reader must use the stored blob. */
  get abandoned(): boolean {
    return this.#abandoned !== undefined;
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.#abandoned !== undefined || this.#cancelled) return;
    if (!this.#attached && this.#bytes + chunk.length > UNATTACHED_LIMIT) return this.abandon('no reader in time');
    this.#chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    this.#bytes += chunk.length;
    this.#wake();
    while (this.#attached && this.#bytes > ATTACHED_LIMIT && !this.#cancelled && this.#abandoned === undefined) {
      await new Promise<void>((r) => (this.#wakeWriter = r));
    }
  }

  end(): void {
    this.#ended = true;
    this.#wake();
  }

  abandon(why: string): void {
    if (this.#abandoned !== undefined || this.#ended) return; // a verified, complete stream stays whole
    this.#abandoned = why;
    this.#chunks = [];
    this.#bytes = 0;
    this.#wake();
  }

  /** The reader stopped (it failed): further writes are dropped, the writer never waits. */
  cancel(): void {
    this.#cancelled = true;
    this.#chunks = [];
    this.#bytes = 0;
    this.#wake();
  }

  #wake(): void {
    this.#wakeReader?.();
    this.#wakeReader = undefined;
    this.#wakeWriter?.();
    this.#wakeWriter = undefined;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    this.#attached = true;
    for (;;) {
      if (this.#abandoned !== undefined) throw new TapAbandoned(this.#abandoned);
      const chunk = this.#chunks.shift();
      if (chunk) {
        this.#bytes -= chunk.length;
        if (this.#bytes <= ATTACHED_LIMIT / 2) {
          this.#wakeWriter?.();
          this.#wakeWriter = undefined;
        }
        yield chunk;
        continue;
      }
      if (this.#ended) return;
      await new Promise<void>((r) => (this.#wakeReader = r));
    }
  }
}
