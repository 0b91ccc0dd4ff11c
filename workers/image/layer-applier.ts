// Applies one uncompressed layer tar to a snapshot directory, refusing hostile entries.
// Every write goes through a path whose components were checked not to be symlinks, files
// are created with O_EXCL|O_NOFOLLOW, and nothing is ever followed out of the root.
import * as fs from 'node:fs';
import { join } from 'node:path';
import { BurstletError } from '../../src/errors.ts';
import { lsetxattr, mknod, S_IFBLK, S_IFCHR, S_IFIFO } from './libc.ts';
import { TarFormatError, TarReader, type TarEntry, type TarHandler } from './tar-reader.ts';

/** How a layer is applied; plain data chosen by the snapshotter. */
export interface ApplyOptions {
  /** Directory the layer is written into (empty for overlay, a parent copy for copy mode). */
  readonly root: string;
  /** Overlay mode: the parent snapshots' dirs, topmost first (read only, for lookups). */
  readonly lowers: readonly string[];
  /**
   * Overlay mode before the parents exist: record what needs them (implicit parent dirs,
   * hardlinks to lower files) in `result.deferred` for applyDeferred() instead.
   */
  readonly deferLowers?: boolean;
  /** `overlay`: whiteouts become overlayfs char 0/0 nodes and opaque xattrs; `delete`: applied. */
  readonly whiteouts: 'overlay' | 'delete';
  /** Device nodes: skipped (default), refused as hostile, or created (needs root). */
  readonly devices: 'skip' | 'refuse' | 'allow';
  /** Uncompressed byte limit for this layer (decompression bombs). */
  readonly maxBytes: number;
  /**
   * Shared by all layers of one image, across worker threads: `left[0]` is the number of
   * uncompressed bytes still allowed (decremented atomically).
   */
  readonly imageBudget?: ImageBudget;
  /** For error messages: the image reference and the layer digest. */
  readonly image: string;
  readonly layer: string;
}

/** An image-wide byte budget that worker threads share. */
export interface ImageBudget {
  readonly left: BigInt64Array;
  readonly limit: number;
}

/** A fresh budget of `limit` bytes, backed by shared memory. */
export function imageBudget(limit: number): ImageBudget {
  const left = new BigInt64Array(new SharedArrayBuffer(8));
  left[0] = BigInt(limit);
  return { left, limit };
}

/** What applying a layer did. */
export interface ApplyResult {
  entries: number;
  bytes: number;
  /** Entries skipped by policy (device nodes), for a warning event. */
  skipped: string[];
  /** With `deferLowers`: the work left for applyDeferred(). */
  deferred: Deferred;
}

/** Lower-dependent work of a layer applied before its parents were committed. */
export interface Deferred {
  /** Directories the layer implied without an entry, parents first, with the entry that implied them. */
  readonly dirs: { rel: string; entry: string }[];
  /** Hardlinks whose source is not in this layer. */
  readonly links: { rel: string; source: string; entry: string }[];
}

const isRoot = process.getuid?.() === 0;
const OPEN_FLAGS = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW;

/** Streams a decompressed layer through the tar reader into the snapshot. */
export async function applyLayer(source: AsyncIterable<Buffer>, options: ApplyOptions): Promise<ApplyResult> {
  const applier = new LayerApplier(options);
  const reader = new TarReader(applier);
  const it = source[Symbol.asyncIterator]();
  try {
    // Errors of the source itself (decompression, a broken download) pass through as they
    // are; the bytes this attempt took from the image budget are given back for a retry.
    const next = () => it.next().catch((err: unknown) => {
      if (options.imageBudget) Atomics.add(options.imageBudget.left, 0, BigInt(applier.result.bytes));
      throw err;
    });
    for (let r = await next(); !r.done; r = await next()) {
      try {
        applier.count(r.value.length);
        reader.push(r.value); // past the end marker this only counts: the caller hashes all bytes
      } catch (err) {
        throw applier.wrap(err);
      }
    }
    try {
      reader.end();
    } catch (err) {
      throw applier.wrap(err);
    }
  } finally {
    applier.close();
  }
  return applier.result;
}

class LayerApplier implements TarHandler {
  readonly result: ApplyResult = { entries: 0, bytes: 0, skipped: [], deferred: { dirs: [], links: [] } };
  #o: ApplyOptions;
  #fd = -1;
  #current = '';
  // Relative dirs known to be real directories in root → the lowers they merge with.
  #dirs: Map<string, string[]>;
  #created = new Set<string>(); // paths this layer wrote, kept by opaque whiteouts in delete mode

  constructor(options: ApplyOptions) {
    this.#o = options;
    this.#dirs = new Map([['', [...options.lowers]]]);
  }

  count(n: number): void {
    this.result.bytes += n;
    const budget = this.#o.imageBudget;
    if (budget && Atomics.sub(budget.left, 0, BigInt(n)) - BigInt(n) < 0n) {
      throw new BurstletError('IMAGE_TOO_LARGE', `${this.#where()}: image unpacks to more than its ${budget.limit}-byte limit`, {
        details: { image: this.#o.image, layer: this.#o.layer, entry: this.#current },
      });
    }
    if (this.result.bytes > this.#o.maxBytes) {
      throw new BurstletError('IMAGE_TOO_LARGE', `${this.#where()}: layer unpacks to more than ${this.#o.maxBytes} bytes (decompression bomb?)`, {
        details: { image: this.#o.image, layer: this.#o.layer, entry: this.#current },
      });
    }
  }

  wrap(err: unknown): BurstletError {
    if (err instanceof BurstletError) return err;
    const details = { image: this.#o.image, layer: this.#o.layer, entry: this.#current };
    if (err instanceof TarFormatError) return new BurstletError('IMAGE_LAYER_HOSTILE', `${this.#where()}: malformed tar: ${err.message}`, { cause: err, details });
    return new BurstletError('IMAGE_PULL_FAILED', `${this.#where()}: ${(err as Error).message}`, { cause: err, details });
  }

  close(): void {
    if (this.#fd >= 0) fs.closeSync(this.#fd);
    this.#fd = -1;
  }

  #where(): string {
    return `image ${this.#o.image} layer ${this.#o.layer}${this.#current ? ` entry "${this.#current}"` : ''}`;
  }

  #hostile(why: string): BurstletError {
    return new BurstletError('IMAGE_LAYER_HOSTILE', `${this.#where()}: refused: ${why}`, {
      details: { image: this.#o.image, layer: this.#o.layer, entry: this.#current },
    });
  }

  entry(e: TarEntry): void {
    this.#current = e.path;
    this.result.entries++;
    const rel = this.#normalise(e.path);
    if (rel === '') return; // the root itself: its metadata belongs to the snapshot
    const slash = rel.lastIndexOf('/');
    const parent = slash === -1 ? '' : rel.slice(0, slash);
    const base = rel.slice(slash + 1);
    if (base.startsWith('.wh.')) return this.#whiteout(parent, base);
    if ((e.type === 'char' || e.type === 'block') && this.#o.devices !== 'allow') {
      if (this.#o.devices === 'refuse') throw this.#hostile(`device node ${e.devmajor}:${e.devminor}`);
      this.result.skipped.push(rel);
      return;
    }
    this.#ensureDir(parent);
    const path = join(this.#o.root, rel);
    if (e.type === 'dir') return this.#dir(rel, path, e);
    this.#clear(rel, path);
    this.#remember(rel);
    if (e.type === 'file') {
      this.#fd = fs.openSync(path, OPEN_FLAGS, 0o600);
    } else if (e.type === 'symlink') {
      this.#checkSymlink(rel, e.linkname);
      fs.symlinkSync(e.linkname, path);
    } else if (e.type === 'hardlink') {
      const source = this.#hardlinkSource(e.linkname);
      if (source === undefined) {
        this.result.deferred.links.push({ rel, source: this.#normaliseLink(e.linkname), entry: e.path });
        return;
      }
      fs.linkSync(source, path);
      return; // a hardlink shares its source's metadata
    } else {
      const kind = e.type === 'fifo' ? S_IFIFO : e.type === 'char' ? S_IFCHR : S_IFBLK;
      mknod(path, kind | (e.mode & 0o777), e.devmajor, e.devminor);
    }
    if (e.type !== 'file') this.#metadata(path, e);
    else this.#pendingMeta = e;
  }

  #pendingMeta: TarEntry | undefined;

  data(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length) off += fs.writeSync(this.#fd, chunk, off, chunk.length - off);
  }

  entryEnd(): void {
    if (this.#fd >= 0) {
      const e = this.#pendingMeta!;
      const fd = this.#fd;
      this.#fd = -1;
      try {
        if (isRoot) fs.fchownSync(fd, e.uid, e.gid);
        fs.fchmodSync(fd, e.mode); // after chown, which clears setuid bits
        fs.futimesSync(fd, e.mtime, e.mtime);
      } finally {
        fs.closeSync(fd);
      }
      this.#xattrs(join(this.#o.root, this.#normalise(e.path)), e);
      this.#pendingMeta = undefined;
    }
    this.#current = '';
  }

  /** Archive path → root-relative path without `.`; refuses absolute paths and `..`. */
  #normalise(raw: string): string {
    if (raw.startsWith('/')) throw this.#hostile('absolute path');
    if (raw.includes('\0')) throw this.#hostile('NUL byte in path');
    const parts: string[] = [];
    for (const part of raw.split('/')) {
      if (part === '' || part === '.') continue;
      if (part === '..') throw this.#hostile('path contains ".."');
      parts.push(part);
    }
    return parts.join('/');
  }

  /** Makes sure every component of `rel` is a real directory in root, never a symlink. */
  #ensureDir(rel: string): void {
    if (this.#dirs.has(rel)) return;
    const slash = rel.lastIndexOf('/');
    if (slash !== -1) this.#ensureDir(rel.slice(0, slash));
    const path = join(this.#o.root, rel);
    const here = lstatOrNull(path);
    const lower = this.#lowerLookup(rel);
    if (here?.isDirectory()) {
      this.#dirs.set(rel, lower.dirs);
      return;
    }
    if (here?.isSymbolicLink()) throw this.#hostile(`path goes through symlink "${rel}" planted by an earlier entry or layer`);
    if (!here && lower.stat?.isSymbolicLink()) throw this.#hostile(`path goes through symlink "${rel}" planted by an earlier layer`);
    if (here) this.#clear(rel, path);
    const inherit = !here && lower.stat?.isDirectory() ? lower.stat : undefined;
    fs.mkdirSync(path, { mode: 0o755 });
    if (!here && this.#o.deferLowers) this.result.deferred.dirs.push({ rel, entry: this.#current });
    if (inherit) {
      // An implicit parent must not change the merged directory's owner or mode.
      if (isRoot) fs.lchownSync(path, inherit.uid, inherit.gid);
      fs.chmodSync(path, inherit.mode & 0o7777);
    }
    this.#dirs.set(rel, lower.dirs);
  }

  /**
   * The merged view of the parent snapshots at `rel` (overlay mode): the topmost entry and
   * the lowers in which `rel` is a directory that merges. Only lowers where the parent is a
   * merged directory are consulted, so no lstat ever crosses a symlink in a lower.
   */
  #lowerLookup(rel: string): { stat: fs.Stats | null; at?: string; dirs: string[] } {
    const slash = rel.lastIndexOf('/');
    const candidates = this.#dirs.get(slash === -1 ? '' : rel.slice(0, slash)) ?? [];
    let stat: fs.Stats | null = null;
    let at: string | undefined;
    const dirs: string[] = [];
    for (const lower of candidates) {
      const st = lstatOrNull(join(lower, rel));
      if (!st) continue;
      if (st.isCharacterDevice() && st.rdev === 0) break; // a whiteout hides what lies below
      if (!stat) [stat, at] = [st, lower];
      if (!st.isDirectory()) break;
      dirs.push(lower);
    }
    return { stat, at, dirs };
  }

  #dir(rel: string, path: string, e: TarEntry): void {
    const st = lstatOrNull(path);
    if (st && !st.isDirectory()) this.#clear(rel, path);
    if (!st || !st.isDirectory()) fs.mkdirSync(path, { mode: 0o700 });
    this.#remember(rel);
    this.#metadata(path, e);
  }

  /** Only delete mode needs the set (opaque dirs keep this layer's own entries). */
  #remember(rel: string): void {
    if (this.#o.whiteouts === 'delete') this.#created.add(rel);
  }

  /** Removes whatever this layer's root holds at `rel` (never following links). */
  #clear(rel: string, path: string): void {
    const st = lstatOrNull(path);
    if (!st) return;
    if (st.isDirectory()) {
      for (const d of this.#dirs.keys()) if (d === rel || d.startsWith(`${rel}/`)) this.#dirs.delete(d);
      fs.rmSync(path, { recursive: true, force: true });
    } else {
      fs.unlinkSync(path);
    }
  }

  #checkSymlink(rel: string, target: string): void {
    if (target === '' || target.includes('\0')) throw this.#hostile('empty symlink target');
    if (target.startsWith('/')) return; // resolved inside the container's root at run time
    let depth = rel.split('/').length - 1;
    for (const part of target.split('/')) {
      if (part === '..') depth--;
      else if (part !== '' && part !== '.') depth++;
      if (depth < 0) throw this.#hostile(`symlink to "${target}" points outside the root`);
    }
  }

  #normaliseLink(linkname: string): string {
    if (linkname.startsWith('/')) throw this.#hostile(`hardlink to absolute path "${linkname}"`);
    if (linkname.split('/').includes('..')) throw this.#hostile(`hardlink to "${linkname}" points outside the root`);
    const rel = linkname.split('/').filter((p) => p !== '' && p !== '.').join('/');
    if (rel === '') throw this.#hostile('hardlink to the root');
    return rel;
  }

  /**
   * Resolves a hardlink's source inside this layer (copied up from a lower if needed);
   * undefined when deferred because the lowers are not there yet.
   */
  #hardlinkSource(linkname: string): string | undefined {
    const rel = this.#normaliseLink(linkname);
    const slash = rel.lastIndexOf('/');
    this.#ensureDir(slash === -1 ? '' : rel.slice(0, slash));
    const path = join(this.#o.root, rel);
    const st = lstatOrNull(path);
    if (st && !st.isDirectory()) return path;
    if (!st && this.#o.deferLowers) return undefined;
    const lower = st ? undefined : this.#lowerLookup(rel);
    if (!lower?.stat?.isFile() || !lower.at) throw this.#hostile(`hardlink source "${linkname}" does not exist in the image`);
    fs.copyFileSync(join(lower.at, rel), path, fs.constants.COPYFILE_EXCL); // copy-up: links cannot cross snapshots
    if (isRoot) fs.lchownSync(path, lower.stat.uid, lower.stat.gid);
    fs.chmodSync(path, lower.stat.mode & 0o7777);
    return path;
  }

  #whiteout(parent: string, base: string): void {
    this.#ensureDir(parent);
    const dir = join(this.#o.root, parent);
    if (base === '.wh..wh..opq') {
      if (this.#o.whiteouts === 'overlay') return lsetxattr(dir, 'trusted.overlay.opaque', Buffer.from('y'));
      for (const name of fs.readdirSync(dir)) {
        const rel = parent ? `${parent}/${name}` : name;
        if (!this.#created.has(rel)) this.#clear(rel, join(dir, name));
      }
      return;
    }
    if (base.startsWith('.wh..wh.')) return; // other AUFS metadata (hardlink dirs): ignored
    const name = base.slice(4);
    if (name === '' || name === '.' || name === '..') throw this.#hostile(`bad whiteout "${base}"`);
    const rel = parent ? `${parent}/${name}` : name;
    this.#clear(rel, join(dir, name));
    if (this.#o.whiteouts === 'overlay') mknod(join(dir, name), S_IFCHR, 0, 0);
  }

  #metadata(path: string, e: TarEntry): void {
    if (isRoot) fs.lchownSync(path, e.uid, e.gid);
    if (e.type !== 'symlink') fs.chmodSync(path, e.mode);
    fs.lutimesSync(path, e.mtime, e.mtime);
    this.#xattrs(path, e);
  }

  #xattrs(path: string, e: TarEntry): void {
    for (const [name, value] of Object.entries(e.xattrs)) {
      // Only attributes a container may legitimately carry; overlay's own are never taken.
      if (!name.startsWith('user.') && name !== 'security.capability') continue;
      try {
        lsetxattr(path, name, value);
      } catch {
        // Filesystems without xattr support: the file is still usable.
      }
    }
  }
}

function lstatOrNull(path: string): fs.Stats | null {
  try {
    return fs.lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
    throw err;
  }
}
