// Bridges the content store and the snapshotter: reads a stored layer blob, decompresses
// it (gzip, zstd or none, recognised by its magic bytes), checks the uncompressed digest
// (the config's diff_id) while streaming, and applies it.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createGunzip, createZstdDecompress } from 'node:zlib';
import { Readable } from 'node:stream';
import { BurstletError } from '../../src/errors.ts';
import { TapAbandoned } from './blob-tap.ts';
import { applyLayer, type ApplyOptions, type ApplyResult } from './layer-applier.ts';

const CHUNK = 262144;

/** gzip / zstd / plain tar, from the first bytes of the blob. */
export function sniffCompression(head: Buffer): 'gzip' | 'zstd' | 'none' {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  return 'none';
}

/** Reads the first chunk of a live stream and returns a Readable replaying everything. */
async function peek(source: AsyncIterable<Buffer>): Promise<{ head: Buffer; input: Readable }> {
  const it = source[Symbol.asyncIterator]();
  const first = await it.next();
  const head = first.done ? Buffer.alloc(0) : first.value;
  async function* replay(): AsyncGenerator<Buffer> {
    if (!first.done) yield first.value;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
  }
  return { head, input: Readable.from(replay(), { objectMode: false }) };
}

async function readHead(path: string): Promise<Buffer> {
  for await (const chunk of createReadStream(path, { start: 0, end: 3 })) return chunk as Buffer;
  return Buffer.alloc(0);
}

/**
 * Unpacks a layer blob (a stored file, or a live stream of its bytes) into `options.root`.
 * Throws IMAGE_DIGEST_MISMATCH when the uncompressed content does not hash to `diffId`; the
 * caller then discards the snapshot. Errors of a live `blob` stream propagate unchanged.
 */
export async function unpackLayer(blob: string | AsyncIterable<Buffer>, diffId: string, options: ApplyOptions): Promise<ApplyResult> {
  const { head, input } = typeof blob === 'string' ? { head: await readHead(blob), input: createReadStream(blob, { highWaterMark: CHUNK }) } : await peek(blob);
  const compression = sniffCompression(head);
  const file: Readable = input;
  let stream: Readable = file;
  if (compression === 'gzip') stream = file.pipe(createGunzip({ chunkSize: CHUNK }));
  else if (compression === 'zstd') stream = file.pipe(createZstdDecompress({ chunkSize: CHUNK }));
  if (stream !== file) file.on('error', (err: Error) => stream.destroy(err));
  const hash = createHash('sha256');
  async function* hashed(): AsyncGenerator<Buffer> {
    for await (const chunk of stream) {
      hash.update(chunk as Buffer);
      yield chunk as Buffer;
    }
  }
  let result: ApplyResult;
  try {
    result = await applyLayer(hashed(), options);
  } catch (err) {
    stream.destroy();
    if (err instanceof BurstletError) throw err;
    if (err instanceof TapAbandoned) throw err;
    throw new BurstletError('IMAGE_PULL_FAILED', `image ${options.image} layer ${options.layer}: cannot decompress (${compression}): ${(err as Error).message}`, {
      cause: err, details: { image: options.image, layer: options.layer },
    });
  } finally {
    file.destroy();
  }
  const got = `sha256:${hash.digest('hex')}`;
  if (got !== diffId) {
    throw new BurstletError('IMAGE_DIGEST_MISMATCH', `image ${options.image} layer ${options.layer}: uncompressed content hashes to ${got}, config says ${diffId}`, {
      details: { image: options.image, layer: options.layer },
    });
  }
  return result;
}
