/**
 * Performs mounts that other parts describe as plain data (snapshotter rootfs mounts, tmpfs
 * volumes) and undoes them, in-process through the native library (koffi, on a libuv pool
 * thread): one syscall, no process per mount — a `mount` spawn forks the whole worker.
 */
import { readFile } from 'node:fs/promises';
import { BurstletError } from '../../src/errors.ts';
import { loadNativeLib } from '../executor/native-lib.ts';

/** A mount as plain data (same shape as the image snapshotter's). */
export interface MountSpec {
  readonly type: string;
  readonly source: string;
  readonly options: readonly string[];
}

/** mount(8) option words that are MS_* flags rather than filesystem data. */
const FLAGS: Record<string, number> = {
  ro: 0x1, nosuid: 0x2, nodev: 0x4, noexec: 0x8, sync: 0x10, mand: 0x40, dirsync: 0x80,
  noatime: 0x400, nodiratime: 0x800, relatime: 0x200000, strictatime: 0x1000000,
};
/** Words that only undo a flag (the default here). */
const NO_FLAGS = new Set(['rw', 'suid', 'dev', 'exec', 'async', 'nomand', 'atime', 'diratime', 'norelatime', 'defaults']);

/** Splits mount(8) options into MS_* flags and the filesystem's data string. */
export function mountOptions(options: readonly string[]): { flags: number; data: string } {
  let flags = 0;
  const data: string[] = [];
  for (const o of options) {
    if (o in FLAGS) flags |= FLAGS[o];
    else if (o === 'rw') flags &= ~FLAGS.ro;
    else if (!NO_FLAGS.has(o)) data.push(o);
  }
  return { flags, data: data.join(',') };
}

/** A bind mount: type "bind" or options holding bind/rbind. */
export function isBind(m: MountSpec): boolean {
  return m.type === 'bind' || m.options.includes('bind') || m.options.includes('rbind');
}

/** Mounts `m` at `target` (a bind when isBind). */
export async function mountAt(m: MountSpec, target: string): Promise<void> {
  const lib = loadNativeLib();
  const bind = isBind(m);
  try {
    if (bind) await lib.mountBindAsync(m.source, target, { readonly: m.options.includes('ro') });
    else await lib.mountAsync({ type: m.type, source: m.source, target, ...mountOptions(m.options) });
  } catch (err) {
    throw new BurstletError('CONTAINER_CREATE', `mount ${m.type} ${m.source} on ${target}: ${(err as Error).message}`, { cause: err });
  }
}

/** True when something is mounted exactly at `target`. */
export async function isMounted(target: string): Promise<boolean> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  return info.split('\n').some((l) => l.split(' ')[4] === target);
}

/**
 * Unmounts everything stacked at `target`; a missing mount is fine (idempotent). One native
 * call: umount2 until the kernel says nothing is mounted there (a busy mount is detached),
 * instead of reading the whole mount table around each call.
 */
export async function unmount(target: string): Promise<void> {
  await loadNativeLib().unmountAllAsync(target);
}

/**
 * Removes a pod's or container's directory tree in one call off the main thread, without
 * ever crossing into a mount (a rootfs or volume still mounted inside fails the call with
 * EBUSY instead of being emptied through the mount). A missing path is fine.
 */
export function removeTree(path: string): Promise<void> {
  return loadNativeLib().removeTreeAsync(path);
}
