// Layers of the hostile test images: each is one tarball that a safe unpacker must refuse or
// neutralise. Names are written verbatim by oci-tar.ts; nothing here is ever unpacked.
// BOMB_FILE_NAME/BOMB_FILE_SIZE are re-exported for tests that check the bomb.
import { cachedLayer } from './oci-layer-cache.ts';
import { gzipLayer, type Layer } from './oci-image.ts';
import { tarArchive, type TarEntry } from './oci-tar.ts';
import { BOMB_FILE_NAME, BOMB_FILE_SIZE, writeGzipBomb } from './oci-gzip-bomb.ts';

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

/** The compressed layer of a small hostile image. */
export function hostileLayer(name: keyof typeof HOSTILE_ENTRIES): Layer {
  return gzipLayer(tarArchive(HOSTILE_ENTRIES[name]));
}

/** The gzip bomb (see oci-gzip-bomb.ts), cached on disk: its diff_id takes a GiB to hash. */
export function gzipBombLayer(): Promise<Layer> {
  return cachedLayer(`gzip-bomb v2 full-flush-repeat ${BOMB_FILE_NAME} ${BOMB_FILE_SIZE}`, writeGzipBomb);
}

export { BOMB_FILE_NAME, BOMB_FILE_SIZE };
