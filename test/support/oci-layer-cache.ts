// Large generated layers (the ~200 MB benchmark image, the gzip bomb) are streamed through
// gzip into a file and cached under os.tmpdir() by a key naming their content, so a second
// test run (or a second test process) reuses them instead of regenerating.
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip, type ZlibOptions } from 'node:zlib';
import { MEDIA, type Layer } from './oci-image.ts';

/** Where cached layers live; safe to delete at any time. */
export const LAYER_CACHE_DIR = join(tmpdir(), 'burstlet-test-layers');

/** Digests and size of a compressed layer blob. */
export interface LayerDigests { digest: string; diffId: string; size: number }

/** Writes a layer's compressed bytes to `path` and returns their digests. */
export type LayerWriter = (path: string) => Promise<LayerDigests>;

/**
 * The layer `write` produces, from the cache when present. `key` must change whenever the
 * content would (name the generator, its version and its compression settings). Safe under
 * concurrent callers: each writes a private temp file and renames it into place.
 */
export async function cachedLayer(key: string, write: LayerWriter): Promise<Layer> {
  const id = createHash('sha256').update(key).digest('hex').slice(0, 32);
  const blobPath = join(LAYER_CACHE_DIR, `${id}.tar.gz`);
  const metaPath = join(LAYER_CACHE_DIR, `${id}.json`);
  const cached = await readMeta(metaPath, blobPath);
  if (cached) return { mediaType: MEDIA.ociLayerGzip, ...cached, path: blobPath };
  await mkdir(LAYER_CACHE_DIR, { recursive: true });
  const temp = `${blobPath}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const meta = await write(temp);
  await rename(temp, blobPath);
  const metaTemp = `${metaPath}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(metaTemp, JSON.stringify(meta));
  await rename(metaTemp, metaPath);
  return { mediaType: MEDIA.ociLayerGzip, ...meta, path: blobPath };
}

/** A LayerWriter that streams the tar chunks `generate()` yields through gzip. */
export function gzipStreamWriter(gzip: ZlibOptions, generate: () => AsyncIterable<Buffer> | Iterable<Buffer>): LayerWriter {
  return async (path) => {
    const tarHash = createHash('sha256');
    const gzHash = createHash('sha256');
    let size = 0;
    const hashTar = new Transform({ transform(chunk: Buffer, _enc, done) { tarHash.update(chunk); done(null, chunk); } });
    const hashGz = new Transform({ transform(chunk: Buffer, _enc, done) { gzHash.update(chunk); size += chunk.length; done(null, chunk); } });
    await pipeline(Readable.from(generate()), hashTar, createGzip(gzip), hashGz, createWriteStream(path));
    return { digest: `sha256:${gzHash.digest('hex')}`, diffId: `sha256:${tarHash.digest('hex')}`, size };
  };
}

// Cached metadata, trusted only when the blob beside it has the recorded size.
async function readMeta(metaPath: string, blobPath: string): Promise<LayerDigests | undefined> {
  try {
    const meta = JSON.parse(await readFile(metaPath, 'utf8')) as LayerDigests;
    return (await stat(blobPath)).size === meta.size ? meta : undefined;
  } catch {
    return undefined;
  }
}
