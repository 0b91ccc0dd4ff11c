// The gzip bomb layer: a valid tar holding one file of BOMB_FILE_SIZE zero bytes, gzipped to
// about 1 MB. Built without compressing a GiB: a raw-deflate segment for 1 MiB of zeros ends
// with a full flush (byte aligned, no references before its own start), so repeating it is a
// valid deflate stream of N MiB of zeros; the tar header and tail are segments of their own.
// Only the CRC-32 and the diff_id need a pass over the uncompressed bytes.
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { constants, crc32, deflateRawSync } from 'node:zlib';
import { sha256Digest } from './oci-image.ts';
import type { LayerDigests } from './oci-layer-cache.ts';
import { tarEnd, tarHeader, tarPadding } from './oci-tar.ts';

/** Size of the single all-zero file inside the gzip bomb: more than 1 GiB. */
export const BOMB_FILE_SIZE = (1024 + 64) * 1024 * 1024;
/** Name of that file inside the bomb's tar. */
export const BOMB_FILE_NAME = 'zeros';

const MIB = 1024 * 1024;

/** Writes the bomb's gzip bytes to `path` (a LayerWriter for cachedLayer). */
export async function writeGzipBomb(path: string): Promise<LayerDigests> {
  const header = tarHeader({ name: BOMB_FILE_NAME, type: 'file', size: BOMB_FILE_SIZE });
  const tail = Buffer.concat([tarPadding(BOMB_FILE_SIZE), tarEnd()]);
  const zeros = Buffer.alloc(MIB);
  const segment = (data: Buffer) => deflateRawSync(data, { level: 9, finishFlush: constants.Z_FULL_FLUSH });
  const zeroSegment = segment(zeros);
  const deflated: Buffer[] = [segment(header)];
  const tarHash = createHash('sha256').update(header);
  let crc = crc32(header);
  for (let left = BOMB_FILE_SIZE; left > 0; left -= MIB) {
    if (left < MIB) throw new Error('BOMB_FILE_SIZE must be a whole number of MiB');
    deflated.push(zeroSegment);
    tarHash.update(zeros);
    crc = crc32(zeros, crc);
  }
  deflated.push(deflateRawSync(tail, { level: 9 })); // Z_FINISH: the final block
  tarHash.update(tail);
  crc = crc32(tail, crc);
  const total = header.length + BOMB_FILE_SIZE + tail.length;
  // gzip member: magic, deflate, no flags, mtime 0, xfl 2 (max compression), OS 3 (Unix).
  const gzipHeader = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 3]);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc >>> 0, 0);
  trailer.writeUInt32LE(total % 2 ** 32, 4);
  const data = Buffer.concat([gzipHeader, ...deflated, trailer]);
  await writeFile(path, data);
  return { digest: sha256Digest(data), diffId: `sha256:${tarHash.digest('hex')}`, size: data.length };
}
