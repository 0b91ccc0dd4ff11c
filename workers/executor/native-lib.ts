// In-process calls into native/build/libburstlet.so through koffi: mounting and
// unmounting rootfs snapshots and volumes, and pidfd signalling. Nothing here enters namespaces or
// forks (Node is multi-threaded); that is burstlet-runtime's job.
import { closeSync } from 'node:fs';
import { resolve } from 'node:path';
import koffi from 'koffi';
import { BurstletError } from '../../src/errors.ts';

/** Where `make -C native` puts the library. */
export const libburstletPath = resolve(import.meta.dirname, '../../native/build/libburstlet.so');

/**
 * The library's safe-in-process surface. Every call is synchronous (a single syscall or
 * two), throws RUNTIME_FAILED with the library's message (call, errno text, path), and
 * leaves nothing half-done: a failed read-only bind is unmounted again.
 */
export interface NativeLib {
  /** Mounts overlayfs at `target`; without upper/work it is read-only. */
  mountOverlay(opts: { lower: string[]; upper?: string; work?: string; target: string }): void;
  /** Bind-mounts `source` on `target` (recursively), read-only when asked. */
  mountBind(source: string, target: string, opts?: { readonly?: boolean }): void;
  /** mount(2) of filesystem `type` with MS_* `flags` and the filesystem's option string. */
  mount(opts: { type: string; source: string; target: string; flags?: number; data?: string }): void;
  /** Unmounts `target`; `detach` for a lazy unmount of a busy mount. */
  unmount(target: string, opts?: { detach?: boolean }): void;
  /**
   * The mounts above on a libuv pool thread (koffi async calls): an overlay unmount waits for
   * the kernel and would stall the worker's main thread for milliseconds per container.
   */
  mountAsync(opts: { type: string; source: string; target: string; flags?: number; data?: string }): Promise<void>;
  mountBindAsync(source: string, target: string, opts?: { readonly?: boolean }): Promise<void>;
  unmountAsync(target: string, opts?: { detach?: boolean }): Promise<void>;
  /** Unmounts everything stacked at `target` in one pool-thread call (busy ones detached); nothing mounted is fine. */
  unmountAllAsync(target: string): Promise<void>;
  /**
   * burstlet-runtime's start / kill / delete in-process on a pool thread (none forks or
   * enters a namespace); errors carry the CLI's message. `delete` with `force` of a live
   * container waits up to 10 s for its exit on that thread.
   */
  containerStart(root: string, id: string): Promise<void>;
  containerKill(root: string, id: string, signal: string, opts?: { all?: boolean }): Promise<void>;
  containerDelete(root: string, id: string, opts?: { force?: boolean }): Promise<void>;
  /**
   * rm -rf of `path` in one pool-thread call, never crossing into another mount: a mount
   * point inside fails (errno EBUSY) and is left with its parents. A missing path is fine.
   * One call instead of fs.promises.rm's round trip per entry, and no unlink blocking the
   * main thread (an unlink on a busy ext4 waits ~100 µs).
   */
  removeTreeAsync(path: string): Promise<void>;
  /**
   * rmdir of `path` and of the directories inside it first (a pod's cgroup and its
   * leftover children), synchronously and without throwing: true when it is gone (or never
   * was), false when something is still busy or holds a file.
   */
  rmdirTree(path: string): boolean;
  /** Runs an encoded batch of mkdir -p / file writes (file-batch.ts) in one pool-thread call. */
  writeTreeAsync(batch: Buffer): Promise<void>;
  /** A pidfd for `pid`; the caller closes it with `closePidfd`. */
  pidfdOpen(pid: number): number;
  /** Signals the exact process behind the pidfd; returns false if it has already exited. */
  pidfdSignal(pidfd: number, signal: number): boolean;
  closePidfd(pidfd: number): void;
}

const MSG_LEN = 1024;
const ESRCH = 3;

let loaded: NativeLib | undefined;

/** Loads the library once per process. */
export function loadNativeLib(path = libburstletPath): NativeLib {
  if (loaded && path === libburstletPath) return loaded;
  const lib = koffi.load(path);
  const overlay = lib.func('int bl_mount_overlay(str lower, str upper, str work, str target, _Out_ uint8_t *msg, size_t len)');
  const bind = lib.func('int bl_mount_bind(str source, str target, int readonly, _Out_ uint8_t *msg, size_t len)');
  const mountFs = lib.func('int bl_mount_fs(str type, str source, str target, unsigned long flags, str data, _Out_ uint8_t *msg, size_t len)');
  const unmount = lib.func('int bl_unmount(str target, int detach, _Out_ uint8_t *msg, size_t len)');
  const unmountAll = lib.func('int bl_unmount_all(str target, _Out_ uint8_t *msg, size_t len)');
  const cStart = lib.func('int bl_ffi_start(str root, str id, _Out_ uint8_t *msg, size_t len)');
  const cKill = lib.func('int bl_ffi_kill(str root, str id, str sig, int all, _Out_ uint8_t *msg, size_t len)');
  const cDelete = lib.func('int bl_ffi_delete(str root, str id, int force, _Out_ uint8_t *msg, size_t len)');
  const removeTree = lib.func('int bl_ffi_remove_tree(str path, _Out_ uint8_t *msg, size_t len)');
  const writeTree = lib.func('int bl_ffi_write_tree(const uint8_t *buf, size_t n, _Out_ uint8_t *msg, size_t len)');
  const rmdirTree = lib.func('int bl_ffi_rmdir_tree(str path)');
  const pidfdOpen = lib.func('int bl_pidfd_open(int pid, _Out_ uint8_t *msg, size_t len)');
  const pidfdSignal = lib.func('int bl_pidfd_signal(int pidfd, int sig, _Out_ uint8_t *msg, size_t len)');

  /** Calls `fn` with a message buffer; a negative result becomes a BurstletError. */
  const call = (fn: (msg: Buffer) => number, allow: number[] = []): number => {
    const msg = Buffer.alloc(MSG_LEN);
    const r = fn(msg);
    if (r < 0 && !allow.includes(-r)) {
      throw new BurstletError('RUNTIME_FAILED', msg.toString('utf8', 0, Math.max(0, msg.indexOf(0))), {
        details: { errno: -r },
      });
    }
    return r;
  };

  /**
   * `call` on a pool thread: `fn` is a koffi function's `.async`, given the message buffer.
   * At most `resident_async_pools` calls are handed to koffi at once, the rest wait here in
   * order: koffi refuses calls past `max_async_calls` ("Too many asynchronous calls are
   * running") and gives every call past its resident pools a freshly allocated stack and heap.
   * libuv runs only UV_THREADPOOL_SIZE (4) of them at a time anyway.
   */
  type AsyncFn = (...args: unknown[]) => void;
  const slots = Math.max(1, Number(koffi.config().resident_async_pools) || 1);
  let inFlight = 0;
  const waiting: (() => void)[] = [];
  const callAsync = (fn: AsyncFn, ...args: unknown[]): Promise<void> => {
    const msg = Buffer.alloc(MSG_LEN);
    return new Promise((resolve, reject) => {
      const go = () => {
        inFlight++;
        try {
          fn(...args, msg, MSG_LEN, (err: Error | null, r: number) => {
            inFlight--;
            // Not from inside this callback: koffi frees the call's memory slot only after it
            // returns, so a call started here found every slot taken and got a temporary one —
            // mmap, and munmap with a TLB-flush IPI to every CPU, ~250 µs of main thread each.
            if (waiting.length > 0) queueMicrotask(() => waiting.shift()?.());
            if (err) return reject(new BurstletError('RUNTIME_FAILED', err.message, { cause: err }));
            if (r < 0) {
              return reject(new BurstletError('RUNTIME_FAILED', msg.toString('utf8', 0, Math.max(0, msg.indexOf(0))), { details: { errno: -r } }));
            }
            resolve();
          });
        } catch (err) {
          inFlight--;
          waiting.shift()?.();
          reject(new BurstletError('RUNTIME_FAILED', (err as Error).message, { cause: err }));
        }
      };
      if (inFlight < slots) go();
      else waiting.push(go);
    });
  };

  const api: NativeLib = {
    mountOverlay({ lower, upper, work, target }) {
      if (lower.length === 0) throw new BurstletError('INVALID_INPUT', 'overlay needs at least one lower dir');
      if ((upper === undefined) !== (work === undefined)) {
        throw new BurstletError('INVALID_INPUT', 'overlay upper and work dirs go together');
      }
      call((m) => overlay(lower.join(':'), upper ?? null, work ?? null, target, m, MSG_LEN));
    },
    mountBind(source, target, opts = {}) {
      call((m) => bind(source, target, opts.readonly ? 1 : 0, m, MSG_LEN));
    },
    mount({ type, source, target, flags = 0, data }) {
      call((m) => mountFs(type, source, target, flags, data ?? null, m, MSG_LEN));
    },
    unmount(target, opts = {}) {
      call((m) => unmount(target, opts.detach ? 1 : 0, m, MSG_LEN));
    },
    mountAsync({ type, source, target, flags = 0, data }) {
      return callAsync(mountFs.async as AsyncFn, type, source, target, flags, data ?? null);
    },
    mountBindAsync(source, target, opts = {}) {
      return callAsync(bind.async as AsyncFn, source, target, opts.readonly ? 1 : 0);
    },
    unmountAsync(target, opts = {}) {
      return callAsync(unmount.async as AsyncFn, target, opts.detach ? 1 : 0);
    },
    unmountAllAsync(target) {
      return callAsync(unmountAll.async as AsyncFn, target);
    },
    containerStart(root, id) {
      return callAsync(cStart.async as AsyncFn, root, id);
    },
    containerKill(root, id, signal, opts = {}) {
      return callAsync(cKill.async as AsyncFn, root, id, signal, opts.all ? 1 : 0);
    },
    containerDelete(root, id, opts = {}) {
      return callAsync(cDelete.async as AsyncFn, root, id, opts.force ? 1 : 0);
    },
    removeTreeAsync(path) {
      return callAsync(removeTree.async as AsyncFn, path);
    },
    rmdirTree(path) {
      return rmdirTree(path) === 1;
    },
    writeTreeAsync(batch) {
      return callAsync(writeTree.async as AsyncFn, batch, batch.length);
    },
    pidfdOpen(pid) {
      return call((m) => pidfdOpen(pid, m, MSG_LEN));
    },
    pidfdSignal(pidfd, signal) {
      return call((m) => pidfdSignal(pidfd, signal, m, MSG_LEN), [ESRCH]) === 0;
    },
    closePidfd(pidfd) {
      closeSync(pidfd);
    },
  };
  if (path === libburstletPath) loaded = api;
  return api;
}
