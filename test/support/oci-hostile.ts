// Layers of the hostile test images: each is one tarball that a safe unpacker must refuse or
// neutralise. Names are written verbatim by oci-tar.ts; nothing here is ever unpacked.
import { cachedLayer } from './oci-layer-cache.ts';
import { gzipLayer, type Layer } from './oci-image.ts';
import { tarArchive, tarEnd, tarHeader, tarPadding, type TarEntry } from './oci-tar.ts';

export type HostileName = 'hostile/dotdot' | 'hostile/absolute' | 'hostile/symlink-escape'
  | 'hostile/hardlink-escape' | 'hostile/device' | 'hostile/gzip-bomb';

const SAFE: TarEntry = { name: 'safe.txt', type: 'file', data: 'a harmless file before the hostile entry\n' };

/** The entries of each small hostile layer, in tar order (the gzip bomb is built apart). */
export const HOSTILE_ENTRIES: Record<Exclude<HostileName, 'hostile/gzip-bomb'>, TarEntry[]> = {
  // A plain relative path that climbs out of the rootfs.
  'hostile/dotdot': [SAFE, { name: '../escape', type: 'file', data: 'written outside the rootfs via ../\n' }],
  // An absolute path: joined naively onto the host's / instead of the rootfs.
  'hostile/absolute': [SAFE, { name: '/abs-escape', type: 'file', data: 'written to an absolute host path\n' }],
  // The symlink itself is legal (it resolves inside the container at run time); writing a
  // file *through* it on the host is the escape.
  'hostile/symlink-escape': [
    { name: 'link', type: 'symlink', linkname: '/' },
    { name: 'link/escaped-through-symlink', type: 'file', data: 'written through a symlink to /\n' },
  ],
  // A hardlink whose target is outside the rootfs: linking it would expose a host file.
  'hostile/hardlink-escape': [SAFE, { name: 'hardlink', type: 'hardlink', linkname: '../../outside' }],
  // A character device node for /dev/mem (1,1), world-readable.
  'hostile/device': [
    { name: 'dev/', type: 'dir' },
    { name: 'dev/evil-mem', type: 'char', mode: 0o666, devmajor: 1, devminor: 1 },
  ],
};

/** Size of the single all-zero file inside the gzip bomb: more than 1 GiB. */
export const BOMB_FILE_SIZE = (1024 + 64) * 1024 * 1024;
/** Name of that file inside the bomb's tar. */
export const BOMB_FILE_NAME = 'zeros';

/** The compressed layer of a small hostile image. */
export function hostileLayer(name: keyof typeof HOSTILE_ENTRIES): Layer {
  return gzipLayer(tarArchive(HOSTILE_ENTRIES[name]));
}

/**
 * The gzip bomb: a valid tar holding BOMB_FILE_SIZE zero bytes, about 1 MB compressed (zlib
 * level 9 shrinks zeros ~1000:1). Streamed, never held in memory; cached on disk.
 */
export function gzipBombLayer(): Promise<Layer> {
  return cachedLayer(`gzip-bomb v1 ${BOMB_FILE_NAME} ${BOMB_FILE_SIZE}`, { level: 9 }, function* () {
    yield tarHeader({ name: BOMB_FILE_NAME, type: 'file', size: BOMB_FILE_SIZE });
    const chunk = Buffer.alloc(1024 * 1024);
    for (let left = BOMB_FILE_SIZE; left > 0; left -= chunk.length) {
      yield left >= chunk.length ? chunk : chunk.subarray(0, left);
    }
    yield tarPadding(BOMB_FILE_SIZE);
    yield tarEnd();
  });
}
