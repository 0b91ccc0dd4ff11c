// Content-addressed blob store shared by every pod on the host. It knows digests and
// bytes, nothing about images: blobs enter only after their digest and size were verified
// while streaming, through temp file + fsync + rename, and a broken download resumes.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { join } from 'node:path';
import { BurstletError } from '../../src/errors.ts';
import type { BlobTap } from './blob-tap.ts';
import { blobBuffers } from './buffer-pool.ts';
import { startWriteback } from './libc.ts';

/** What to fetch: a digest (`sha256:<hex>`) and its declared size in bytes. */
export interface Descriptor {
  readonly digest: string;
  readonly size: number;
}

/**
 * Where blob bytes come from. `open(offset)` starts a stream at `offset` (HTTP Range) and
 * says which offset it actually honoured: 0 when the source ignored the range.
 */
export interface BlobSource {
  open(offset: number): Promise<{ offset: number; body: AsyncIterable<Uint8Array> | Iterable<Uint8Array> }>;
}

/** Reports bytes written so far for one blob (including resumed bytes). */
export type ProgressFn = (done: number, total: number) => void;

const MAX_ATTEMPTS = 5;
const WRITE_BATCH = 1 << 20;
const WRITEBACK_STEP = 8 << 20;
const digestRe = /^sha256:([a-f0-9]{64})$/;

/** Thrown by a BlobSource for a transfer that broke mid-way and may be resumed. */
export class TransferInterrupted extends Error {
  override name = 'TransferInterrupted';
}

/**
 * Blobs under `<root>/blobs/sha256/<hex>`, partial downloads under `<root>/ingest/`. Safe for
 * concurrent use within one process (single-flight per digest); one process owns a root.
 */
export class ContentStore {
  readonly root: string;
  #inflight = new Map<string, Promise<string>>();

  constructor(root: string) {
    this.root = root;
  }

  /** Path of a stored blob (it may not exist). Throws for a digest that is not sha256. */
  path(digest: string): string {
    return join(this.root, 'blobs', 'sha256', hexOf(digest));
  }

  /** Size of a stored blob, or undefined when absent. */
  async size(digest: string): Promise<number | undefined> {
    try {
      return (await fsp.stat(this.path(digest))).size;
    } catch {
      return undefined;
    }
  }

  /** Digests being ingested right now (GC must keep them). */
  inflight(): string[] {
    return [...this.#inflight.keys()];
  }

  /**
   * Makes the blob present and returns its path. Concurrent calls for one digest share a
   * single download. On digest or size mismatch nothing is stored and IMAGE_DIGEST_MISMATCH
   * is thrown; an interrupted transfer resumes from the bytes already on disk. `tap`, when
   * given, sees the bytes of a single uninterrupted transfer as they are written; it is
   * abandoned in every other case (joined flight, blob present, resumed transfer).
   */
  ingest(desc: Descriptor, source: BlobSource, progress?: ProgressFn, tap?: BlobTap): Promise<string> {
    const running = this.#inflight.get(desc.digest);
    if (running) {
      tap?.abandon('joined a running download');
      return running;
    }
    const work = this.#ingest(desc, source, progress, tap).finally(() => {
      this.#inflight.delete(desc.digest);
      tap?.abandon('download finished without the tap');
    });
    this.#inflight.set(desc.digest, work);
    return work;
  }

  async #ingest(desc: Descriptor, source: BlobSource, progress?: ProgressFn, tap?: BlobTap): Promise<string> {
    const final = this.path(desc.digest);
    const have = await this.size(desc.digest);
    if (have === desc.size) return final;
    await fsp.mkdir(join(this.root, 'ingest'), { recursive: true });
    await fsp.mkdir(join(this.root, 'blobs', 'sha256'), { recursive: true });
    const partial = join(this.root, 'ingest', `${hexOf(desc.digest)}.partial`);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#transfer(desc, source, partial, progress, tap);
        break;
      } catch (err) {
        tap?.abandon((err as Error).message);
        if (!(err instanceof TransferInterrupted) || attempt >= MAX_ATTEMPTS) {
          if (!(err instanceof TransferInterrupted)) await fsp.rm(partial, { force: true });
          throw err;
        }
      }
    }
    await fsp.rename(partial, final);
    await fsyncDir(join(this.root, 'blobs', 'sha256'));
    return final;
  }

  /** One attempt: appends to the partial file, verifying the whole content at the end. */
  async #transfer(desc: Descriptor, source: BlobSource, partial: string, progress?: ProgressFn, tap?: BlobTap): Promise<void> {
    let hash = createHash('sha256');
    let done = await hashExisting(partial, hash, desc.size);
    const opened = await source.open(done);
    if (opened.offset !== done) {
      // The source could not resume and sent everything: start over with its stream.
      if (opened.offset !== 0) throw new TransferInterrupted(`${desc.digest}: source resumed at ${opened.offset}, wanted ${done}`);
      hash = createHash('sha256');
      done = 0;
    }
    if (done !== 0) tap?.abandon('transfer resumed');
    const fh = await fsp.open(partial, done === 0 ? 'w' : 'a');
    const buffers = blobBuffers();
    const batch: Uint8Array[] = [];
    let batched = 0;
    let written = done;
    let flushed = done; // bytes whose writeback was started
    const flush = async () => {
      if (batched === 0) return;
      const out = batch.splice(0);
      written += batched;
      batched = 0;
      await fh.writev(out);
      for (const c of out) buffers.release(c); // written: pool buffers may be refilled
      // Writeback as we go: the fsync at the end then waits for ~nothing instead of the
      // whole blob (it was ~0.1 s at the tail of every pull of a 200 MB image).
      if (written - flushed >= WRITEBACK_STEP && startWriteback(fh.fd, flushed, written - flushed)) flushed = written;
    };
    try {
      try {
        for await (const chunk of opened.body) {
          done += chunk.length;
          if (done > desc.size) throw mismatch(desc, `more than the declared ${desc.size} bytes`);
          hash.update(chunk);
          // The tap's reader holds the chunk too (and releases it), before a flush may release ours.
          if (tap) buffers.retain(chunk);
          // Fewer, larger writes: one thread-pool round trip per MiB instead of per chunk.
          batch.push(chunk);
          batched += chunk.length;
          if (batched >= WRITE_BATCH) await flush();
          await tap?.write(chunk);
          progress?.(done, desc.size);
        }
      } finally {
        await flush(); // what arrived before a break is kept for the resume
      }
      if (done !== desc.size) throw new TransferInterrupted(`${desc.digest}: stream ended at ${done} of ${desc.size} bytes`);
      const got = `sha256:${hash.digest('hex')}`;
      if (got !== desc.digest) throw mismatch(desc, `content hashes to ${got}`);
      tap?.end();
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  /** Deletes one blob; absent blobs are fine (idempotent). */
  async delete(digest: string): Promise<void> {
    await fsp.rm(this.path(digest), { force: true });
  }

  /** Every stored blob digest. */
  async list(): Promise<string[]> {
    try {
      return (await fsp.readdir(join(this.root, 'blobs', 'sha256'))).filter((n) => /^[a-f0-9]{64}$/.test(n)).map((n) => `sha256:${n}`);
    } catch {
      return [];
    }
  }

  /** Deletes every blob not in `keep` and not being ingested; returns the bytes freed. */
  async gc(keep: ReadonlySet<string>): Promise<number> {
    let freed = 0;
    for (const digest of await this.list()) {
      if (keep.has(digest) || this.#inflight.has(digest)) continue;
      freed += (await this.size(digest)) ?? 0;
      await this.delete(digest);
    }
    return freed;
  }

  /** Reads a whole blob, verified again on the way (for manifests and configs, small). */
  async readVerified(digest: string, limit: number): Promise<Buffer> {
    const buf = await fsp.readFile(this.path(digest));
    if (buf.length > limit) throw new BurstletError('IMAGE_TOO_LARGE', `blob ${digest} is ${buf.length} bytes, limit ${limit}`);
    const got = `sha256:${createHash('sha256').update(buf).digest('hex')}`;
    if (got !== digest) throw mismatch({ digest, size: buf.length }, `stored content hashes to ${got}`);
    return buf;
  }
}

/** Stores a small in-memory blob (manifest, config) already verified by the caller's digest. */
export async function putBytes(store: ContentStore, digest: string, bytes: Buffer): Promise<void> {
  await store.ingest({ digest, size: bytes.length }, {
    open: async () => ({ offset: 0, body: [bytes] }),
  });
}

function hexOf(digest: string): string {
  const m = digestRe.exec(digest);
  if (!m) throw new BurstletError('IMAGE_PULL_FAILED', `unsupported digest "${digest}" (only sha256)`);
  return m[1];
}

function mismatch(desc: Descriptor, why: string): BurstletError {
  return new BurstletError('IMAGE_DIGEST_MISMATCH', `blob ${desc.digest} (${desc.size} bytes) failed verification: ${why}`, {
    details: { digest: desc.digest },
  });
}

/** Feeds an existing partial download into the hash; returns its length (0 if absent or too long). */
async function hashExisting(partial: string, hash: ReturnType<typeof createHash>, limit: number): Promise<number> {
  let size: number;
  try {
    size = (await fsp.stat(partial)).size;
  } catch {
    return 0;
  }
  if (size === 0 || size >= limit) {
    await fsp.rm(partial, { force: true });
    return 0;
  }
  for await (const chunk of createReadStream(partial, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return size;
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
