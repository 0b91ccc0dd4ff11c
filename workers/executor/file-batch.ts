/**
 * Directories and small files a pod or container start needs (bundle dirs, config.json,
 * records, /etc files, snapshot dirs, its rootfs mount), created in ONE native call on a libuv
 * pool thread; and what its teardown undoes (unmounts, tree removals), likewise.
 * One synchronous mkdir or create on the host's disk held the worker's main thread 80 µs and
 * more under load, and each fs/promises call is a pool round trip of its own; a pod start
 * needs about fifteen of them. Entries run in order; the first failure stops the batch with
 * the path in the message (nothing after it is written).
 */
import { BurstletError } from '../../src/errors.ts';
import { loadNativeLib } from './native-lib.ts';

type Kind = 'd' | 'f' | 'x' | 'o' | 'm' | 'u' | 'r' | 'T' | 'C';

export class FileBatch {
  readonly #parts: Buffer[] = [];

  /** mkdir -p `path` (`mode` for the directories it creates). */
  dir(path: string, mode = 0o755): this {
    return this.#add('d', path, mode, '');
  }

  /** Writes `data` to `path`: created with `mode`, or truncated; `exclusive` fails if it exists (EEXIST). */
  file(path: string, data: string | Buffer, opts: { mode?: number; exclusive?: boolean } = {}): this {
    return this.#add(opts.exclusive ? 'x' : 'f', path, opts.mode ?? 0o644, data);
  }

  /**
   * Writes `data` over `path` in place (created with `mode` if missing): a file reused from a
   * spare directory keeps its disk block. Its owner becomes the worker's, its mode `mode`, and
   * its extended attributes go (a container may have changed them through a bind mount).
   */
  overwrite(path: string, data: string | Buffer, mode = 0o644): this {
    return this.#add('o', path, mode, data);
  }

  /**
   * Makes directory `path` from one of the spares in directory `spares` (renamed, see
   * recycle) or, when it holds none (or without `spares`), as dir() does.
   */
  takeSpare(path: string, spares: string | undefined, mode = 0o755): this {
    if (spares?.includes('\0')) throw new BurstletError('INVALID_INPUT', `file batch: bad spare dir ${JSON.stringify(spares)}`);
    return this.#add('T', path, mode, spares ?? '');
  }

  /**
   * Recycles directory `path` into the directory `spares` (as `s-<inode>`) instead of
   * removing it, unless `spares` holds `max` already: everything in it but the `keep` names
   * is removed (never crossing a mount), a kept directory is emptied and reset to `mode`,
   * root-owned, no extended attributes, a kept file stays for an overwrite(); a name kept as
   * `name/` keeps its tree: directories reset, regular files truncated to zero and reset
   * (owner, xattrs, no setuid bits), anything else and whatever passes 64 entries removed.
   * Where that fails, or there is no room, `path` is removed as removeTree does.
   */
  recycle(path: string, spares: string, max: number, keep: readonly string[], mode = 0o755): this {
    if (spares === '' || spares.includes('\0') || !Number.isInteger(max) || max < 0 || keep.some((k) => !/^[^/\0]+\/?$/.test(k))) {
      throw new BurstletError('INVALID_INPUT', `file batch: bad recycle of ${JSON.stringify(path)} into ${JSON.stringify(spares)} keeping ${JSON.stringify(keep)}`);
    }
    return this.#add('C', path, mode, [spares, String(max), ...keep].join('\0'));
  }

  /**
   * mount(2) of filesystem `type` at `target` with MS_* `flags` and the filesystem's option
   * string (workers/runtime/mounts.ts mountOptions); not for binds (they need a remount to be
   * read-only).
   */
  mount(target: string, m: { type: string; source: string; flags?: number; data?: string }): this {
    if ([m.type, m.source, m.data ?? ''].some((x) => x.includes('\0')) || !m.type) {
      throw new BurstletError('INVALID_INPUT', `file batch: bad mount of ${JSON.stringify(m.type)} on ${JSON.stringify(target)}`);
    }
    return this.#add('m', target, m.flags ?? 0, `${m.type}\0${m.source}\0${m.data ?? ''}`);
  }

  /** Unmounts everything at `target` (a busy mount is detached); nothing mounted is fine. */
  unmountAll(target: string): this {
    return this.#add('u', target, 0, '');
  }

  /** rm -rf of `path` that never crosses into a mount (EBUSY); a missing path is fine. */
  removeTree(path: string): this {
    return this.#add('r', path, 0, '');
  }

  get empty(): boolean {
    return this.#parts.length === 0;
  }

  /** Runs the batch; rejects with RUNTIME_FAILED (details.errno) at the first entry that fails. */
  async commit(): Promise<void> {
    if (this.empty) return;
    await loadNativeLib().writeTreeAsync(Buffer.concat(this.#parts));
  }

  #add(kind: Kind, path: string, mode: number, data: string | Buffer): this {
    const p = Buffer.from(path);
    if (p.length === 0 || p.includes(0)) throw new BurstletError('INVALID_INPUT', `file batch: bad path ${JSON.stringify(path)}`);
    const d = typeof data === 'string' ? Buffer.from(data) : data;
    const head = Buffer.alloc(9);
    head.writeUInt8(kind.charCodeAt(0), 0);
    head.writeUInt32LE(mode, 1);
    head.writeUInt32LE(p.length, 5);
    const len = Buffer.alloc(4);
    len.writeUInt32LE(d.length, 0);
    this.#parts.push(head, p, len, d);
    return this;
  }
}
