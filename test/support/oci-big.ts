// Layers of the `big` benchmark image: ~200 MB of barely compressible bytes over several
// layers. The bytes are an AES-128-CTR keystream with fixed keys (deterministic, so digests
// are stable, and generated at hundreds of MB/s) masked to 7 bits per byte and gzipped
// Huffman-only: about 7/8 of their size as Huffman-coded literals, so pulling `big` exercises
// inflate the way real binary layers do (pure random bytes would become stored blocks, a
// memcpy to inflate). Huffman-only skips the match search, which finds nothing in random
// bytes anyway: ~3x faster than level 1 for the same output size.
import { createCipheriv } from 'node:crypto';
import { constants } from 'node:zlib';
import { cachedLayer, gzipStreamWriter } from './oci-layer-cache.ts';
import type { Layer } from './oci-image.ts';
import { tarEnd, tarHeader, tarPadding } from './oci-tar.ts';

export const BIG_LAYERS = 4;
export const BIG_FILES_PER_LAYER = 6;
export const BIG_FILE_SIZE = 10 * 1024 * 1024;

/** The generated layers, bottom first (each BIG_FILES_PER_LAYER files of BIG_FILE_SIZE). */
export function bigLayers(): Promise<Layer[]> {
  const layers: Promise<Layer>[] = [];
  for (let i = 0; i < BIG_LAYERS; i++) {
    const gzip = { level: 1, strategy: constants.Z_HUFFMAN_ONLY };
    const key = `big v2 mask=0x7f layer=${i} files=${BIG_FILES_PER_LAYER} size=${BIG_FILE_SIZE} gzip=${JSON.stringify(gzip)}`;
    layers.push(cachedLayer(key, gzipStreamWriter(gzip, () => bigLayerTar(i))));
  }
  return Promise.all(layers);
}

function* bigLayerTar(layer: number): Generator<Buffer> {
  yield tarHeader({ name: `big${layer}/`, type: 'dir' });
  for (let file = 0; file < BIG_FILES_PER_LAYER; file++) {
    yield tarHeader({ name: `big${layer}/blob${file}.bin`, type: 'file', size: BIG_FILE_SIZE });
    const key = Buffer.alloc(16);
    key.writeUInt32BE(layer, 0);
    key.writeUInt32BE(file, 4);
    const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
    const zeros = Buffer.alloc(1024 * 1024);
    for (let left = BIG_FILE_SIZE; left > 0; left -= zeros.length) {
      const bytes = cipher.update(left >= zeros.length ? zeros : zeros.subarray(0, left));
      for (let i = 0; i < bytes.length; i++) bytes[i] &= 0x7f;
      yield bytes;
    }
    yield tarPadding(BIG_FILE_SIZE);
  }
  yield tarEnd();
}
