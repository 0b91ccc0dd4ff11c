// The few libc calls Node's fs lacks that pulling needs: mknod (overlay whiteouts, fifos,
// allowed device nodes), lsetxattr (overlay opaque dirs, file capabilities) and
// sync_file_range (early writeback of blobs, so the final fsync has little left to wait for).
// Bound lazily through koffi so hosts that never unpack overlay layers never load it.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

interface Libc {
  mknod(path: string, mode: number, dev: bigint): number;
  lsetxattr(path: string, name: string, value: Buffer, size: number, flags: number): number;
  sync_file_range(fd: number, offset: bigint, nbytes: bigint, flags: number): number;
  errno(): number;
}

let libc: Libc | undefined;

function load(): Libc {
  if (libc) return libc;
  const koffi = require('koffi');
  const lib = koffi.load('libc.so.6');
  const errnoLocation = lib.func('int *__errno_location(void)');
  libc = {
    mknod: lib.func('int mknod(const char *path, uint32_t mode, uint64_t dev)'),
    lsetxattr: lib.func('int lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags)'),
    sync_file_range: lib.func('int sync_file_range(int fd, int64_t offset, int64_t nbytes, unsigned int flags)'),
    errno: () => koffi.decode(errnoLocation(), 'int'),
  };
  return libc;
}

export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;
export const S_IFIFO = 0o010000;

/** Linux makedev() for the 64-bit dev_t glibc uses. */
export function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major);
  const mi = BigInt(minor);
  return ((ma & 0xfffff000n) << 32n) | ((ma & 0xfffn) << 8n) | ((mi & 0xffffff00n) << 12n) | (mi & 0xffn);
}

function fail(call: string, path: string): never {
  const errno = load().errno();
  const err = new Error(`${call} ${path}: errno ${errno}`) as NodeJS.ErrnoException;
  err.errno = errno;
  err.syscall = call;
  err.path = path;
  throw err;
}

/** mknod(2); throws an errno-carrying Error on failure. Needs CAP_MKNOD for devices. */
export function mknod(path: string, mode: number, major = 0, minor = 0): void {
  if (load().mknod(path, mode, makedev(major, minor)) !== 0) fail('mknod', path);
}

/** lsetxattr(2) (never follows a symlink); throws on failure. */
export function lsetxattr(path: string, name: string, value: Buffer): void {
  if (load().lsetxattr(path, name, value, value.length, 0) !== 0) fail('lsetxattr', path);
}

const SYNC_FILE_RANGE_WRITE = 2;

/**
 * Starts writeback of `nbytes` at `offset` of `fd` without waiting for it (best effort:
 * false when the call is unavailable or fails). Durability still needs fsync.
 */
export function startWriteback(fd: number, offset: number, nbytes: number): boolean {
  try {
    return load().sync_file_range(fd, BigInt(offset), BigInt(nbytes), SYNC_FILE_RANGE_WRITE) === 0;
  } catch {
    return false;
  }
}
