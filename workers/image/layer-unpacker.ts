// Bridges the content store and the snapshotter: reads a stored layer blob, decompresses
// it (gzip, zstd or none, recognised by its magic bytes), checks the uncompressed digest
// (the config's diff_id) while streaming, and applies it.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createGunzip, createZstdDecompress } from 'node:zlib';
import type { Readable } from 'node:stream';
import { BurstletError } from '../../src/errors.ts';
import { applyLayer, type ApplyOptions, type ApplyResult } from './layer-applier.ts';

const CHUNK = 256 * 1024;

/** gzip / zstd / plain tar, from the first bytes of the blob. */
export function sniffCompression(head: Buffer): 'gzip' | 'zstd' | 'none' {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  return 'none';
}

async function readHead(path: string): Promise<Buffer> {
  for await (const chunk of createReadStream(path, { start: 0, end: 3 })) return chunk as Buffer;
  return Buffer.alloc(0);
}

/**
 * Unpacks the blob at `blobPath` into `options.root`. Throws IMAGE_DIGEST_MISMATCH when the
 * uncompressed content does not hash to `diffId`; the caller then discards the snapshot.
 */
export async function unpackLayer(blobPath: string, diffId: string, options: ApplyOptions): Promise<ApplyResult> {
  const compression = sniffCompression(await readHead(blobPath));
  const file = createReadStream(blobPath, { highWaterMark: CHUNK });
  let stream: Readable = file;
  if (compression === 'gzip') stream = file.pipe(createGunzip({ chunkSize: CHUNK }));
  else if (compression === 'zstd') stream = file.pipe(createZstdDecompress({ chunkSize: CHUNK }));
  if (stream !== file) file.on('error', (err) => stream.destroy(err));
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
