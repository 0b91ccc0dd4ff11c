// Layer snapshots keyed by chain ID, unpacked once and shared by every image that has the
// layer. A snapshotter only *describes* a container's rootfs as mounts (plain data, like
// containerd's); the runtime performs them.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { join } from 'node:path';
import { singleFlight } from '../../src/single-flight.ts';
import { readSmall } from '../../src/small-files.ts';
import { FileBatch } from '../executor/file-batch.ts';
import { loadNativeLib } from '../executor/native-lib.ts';
import type { SpareDirs } from '../executor/spare-dirs.ts';
import { fillInitLayer } from './init-layer.ts';

/** A mount as plain data: what `mount -t <type> -o <options> <source> <target>` would do. */
export interface Mount {
  readonly type: string;
  readonly source: string;
  readonly options: readonly string[];
}

/** Where and how a layer is applied while its snapshot is being committed. */
export interface ApplyTarget {
  /** Fresh directory to write the layer into. */
  readonly root: string;
  /**
   * Parent snapshots' dirs, topmost first (overlay), or empty (copy: root holds them).
   * Resolves once the parent is committed, so layers may be applied before their parents.
   */
  lowers(): Promise<string[]>;
  readonly whiteouts: 'overlay' | 'delete';
}

/**
 * Layer snapshots and container rootfs descriptions. Swappable (overlay, copy); both pass
 * test/image/snapshotter.test.ts. All methods are idempotent; commit() is single-flight per
 * chain ID and atomic (a failed apply leaves nothing behind).
 */
export interface Snapshotter {
  readonly kind: 'overlay' | 'copy';
  has(chainId: string): Promise<boolean>;
  /** Creates snapshot `chainId` over `parent` by letting `apply` write a fresh dir. */
  commit(chainId: string, parent: string | undefined, apply: (target: ApplyTarget) => Promise<void>): Promise<void>;
  /**
   * The rootfs of container `id` over snapshot `chainId`, creating its writable part. With
   * `batch`, steps that need no answer may be added to it instead, for the caller to commit
   * before it mounts (one native call for a container's whole start).
   */
  prepare(id: string, chainId: string, batch?: FileBatch): Promise<Mount[]>;
  /** Removes container `id`'s writable part (after the runtime unmounted it); added to `batch` if given. */
  release(id: string, batch?: FileBatch): Promise<void>;
  /**
   * Deletes committed snapshots not in `keep` nor under a prepared container, and temp dirs
   * a crash left behind; returns how many snapshots went.
   */
  gc(keep: ReadonlySet<string>): Promise<number>;
  list(): Promise<string[]>;
  /** The directories holding snapshots and containers, for disk usage. */
  readonly root: string;
}

/** OCI chain IDs: chain(0) = diff(0); chain(n) = sha256(chain(n-1) + " " + diff(n)). */
export function chainIds(diffIds: readonly string[]): string[] {
  const out: string[] = [];
  for (const diff of diffIds) {
    const prev = out.at(-1);
    out.push(prev === undefined ? diff : `sha256:${createHash('sha256').update(`${prev} ${diff}`).digest('hex')}`);
  }
  return out;
}

const hex = (chainId: string) => chainId.replace(/^sha256:/, '');
const safeId = (id: string) => {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(id)) throw new Error(`invalid container id "${id}"`);
  return id;
};

/** What both snapshotters share: the on-disk layout, commit, gc. */
export abstract class SnapshotStore implements Snapshotter {
  abstract readonly kind: 'overlay' | 'copy';
  readonly root: string;
  #committing = new Map<string, Promise<void>>();
  /** Parent chain IDs read so far (undefined: a base layer). */
  #parents = new Map<string, string | undefined>();
  #tmpDirs = new Set<string>(); // temp dirs of commits running in this process
  /** Init layers (init-layer.ts) made or found in this process, by the chain ID they sit on; undefined: none could be made. */
  #inits = new Map<string, Promise<string | undefined>>();
  /** Why the last init layer could not be made (containers then run without one, as before). */
  initError: Error | undefined;

  /**
   * Containers' dirs kept for reuse (spare-dirs.ts) by a snapshotter whose container dirs
   * hold only empty-able parts (overlay: upper and work); `release` recycles into it.
   */
  protected spares: SpareDirs | undefined;
  /** What a recycled container dir keeps (emptied): see SpareDirs.give. */
  protected keepOnRecycle: readonly string[] = [];

  constructor(root: string) {
    this.root = root;
  }

  protected dir(chainId: string): string {
    return join(this.root, 'snapshots', hex(chainId));
  }

  /** The layer content of a committed snapshot. */
  fsOf(chainId: string): string {
    return join(this.dir(chainId), 'fs');
  }

  protected active(id: string): string {
    return join(this.root, 'active', safeId(id));
  }

  async has(chainId: string): Promise<boolean> {
    return fsp.access(join(this.dir(chainId), 'fs')).then(() => true, () => false);
  }

  /** Snapshot dirs from `chainId` down to the base layer (topmost first). */
  protected async lineage(chainId: string | undefined): Promise<string[]> {
    const out: string[] = [];
    for (let at = chainId; at; ) {
      out.push(this.fsOf(at));
      at = this.#parentOf(at);
    }
    return out;
  }

  /**
   * The snapshot's parent chain ID (a small local file: read synchronously, see
   * src/small-files.ts), remembered: a chain ID is the digest of its parent's with its layer,
   * so its parent never changes, and every container start walked the chain on disk.
   */
  #parentOf(chainId: string): string | undefined {
    if (this.#parents.has(chainId)) return this.#parents.get(chainId);
    try {
      const parent = readSmall(join(this.dir(chainId), 'parent')) || undefined;
      // No parent file: a base layer once the snapshot is there (else not committed yet).
      if (parent !== undefined || existsSync(this.fsOf(chainId))) this.#parents.set(chainId, parent);
      return parent;
    } catch {
      return undefined;
    }
  }

  /** The init layer over `chainId`: a snapshot of its own, kept as long as `chainId` is. */
  protected initDir(chainId: string): string {
    return join(this.root, 'snapshots', `init-${hex(chainId)}`);
  }

  /**
   * The layer of mount points (init-layer.ts) over snapshot `chainId` (`lowers`: its lineage),
   * made on first use; undefined when it cannot be made (the runtime then creates the mount
   * points in each container's writable layer).
   */
  protected initLayer(chainId: string, lowers: readonly string[]): Promise<string | undefined> {
    let layer = this.#inits.get(chainId);
    if (!layer) {
      layer = this.#makeInit(chainId, lowers).catch((err: Error) => {
        this.initError = err;
        return undefined;
      });
      this.#inits.set(chainId, layer);
    }
    return layer;
  }

  async #makeInit(chainId: string, lowers: readonly string[]): Promise<string> {
    const fs = join(this.initDir(chainId), 'fs');
    if (existsSync(fs)) return fs;
    const tmp = join(this.root, 'snapshots', `tmp-${randomBytes(6).toString('hex')}`);
    this.#tmpDirs.add(tmp);
    try {
      await fsp.mkdir(join(tmp, 'fs'), { recursive: true, mode: 0o755 });
      // The image as a container sees it: one layer is that already; more are merged read-only.
      let merged = lowers[0];
      if (lowers.length > 1) {
        merged = join(tmp, 'merged');
        await fsp.mkdir(merged);
        loadNativeLib().mountOverlay({ lower: [...lowers], target: merged });
      }
      try {
        await fillInitLayer(merged, join(tmp, 'fs'));
      } finally {
        if (merged !== lowers[0]) {
          loadNativeLib().unmount(merged);
          await fsp.rmdir(merged);
        }
      }
      await fsp.rm(this.initDir(chainId), { recursive: true, force: true }); // a half-removed leftover
      await fsp.rename(tmp, this.initDir(chainId));
      return fs;
    } catch (err) {
      await loadNativeLib().removeTreeAsync(tmp).catch(() => {});
      throw err;
    } finally {
      this.#tmpDirs.delete(tmp);
    }
  }

  /** Prepares the fresh dir `fs` for applying a layer over `parent`. */
  protected abstract target(fs: string, parent: string | undefined): Promise<ApplyTarget>;
  abstract prepare(id: string, chainId: string, batch?: FileBatch): Promise<Mount[]>;

  commit(chainId: string, parent: string | undefined, apply: (target: ApplyTarget) => Promise<void>): Promise<void> {
    return singleFlight(this.#committing, chainId, () => this.#commit(chainId, parent, apply));
  }

  async #commit(chainId: string, parent: string | undefined, apply: (target: ApplyTarget) => Promise<void>): Promise<void> {
    if (await this.has(chainId)) return;
    const tmp = join(this.root, 'snapshots', `tmp-${randomBytes(6).toString('hex')}`);
    this.#tmpDirs.add(tmp);
    await fsp.mkdir(join(tmp, 'fs'), { recursive: true, mode: 0o700 });
    try {
      if (parent) await fsp.writeFile(join(tmp, 'parent'), parent);
      await apply(await this.target(join(tmp, 'fs'), parent));
      await fsp.rm(this.dir(chainId), { recursive: true, force: true }); // a half-removed leftover
      await fsp.rename(tmp, this.dir(chainId));
    } catch (err) {
      await fsp.rm(tmp, { recursive: true, force: true });
      throw err;
    } finally {
      this.#tmpDirs.delete(tmp);
    }
  }

  /**
   * Remembers which snapshot container `id` sits on, so gc() keeps it and its parents: adds
   * the record (and the container's dir) to `batch`; the caller commits it.
   */
  protected recordActive(id: string, chainId: string, batch = new FileBatch()): FileBatch {
    return batch.takeSpare(this.active(id), this.spares?.dir, 0o700).overwrite(join(this.active(id), 'snapshot'), chainId);
  }

  /** Chain IDs (with all their parents) that prepared containers still use. */
  async inUse(): Promise<Set<string>> {
    const out = new Set<string>();
    for (const id of await fsp.readdir(join(this.root, 'active')).catch(() => [] as string[])) {
      let at = (await fsp.readFile(join(this.root, 'active', id, 'snapshot'), 'utf8').catch(() => '')) || undefined;
      for (; at && !out.has(at); at = (await fsp.readFile(join(this.dir(at), 'parent'), 'utf8').catch(() => '')) || undefined) out.add(at);
    }
    return out;
  }

  /**
   * Drops the container's writable layer (recycled as a spare where the snapshotter keeps
   * them): one pool-thread call that never crosses a mount (or a step of `batch`).
   */
  async release(id: string, batch?: FileBatch): Promise<void> {
    const b = batch ?? new FileBatch();
    if (this.spares) this.spares.give(b, this.active(id), this.keepOnRecycle);
    else b.removeTree(this.active(id));
    if (!batch) await b.commit();
  }

  async list(): Promise<string[]> {
    const names = await fsp.readdir(join(this.root, 'snapshots')).catch(() => [] as string[]);
    return names.filter((n) => /^[a-f0-9]{64}$/.test(n)).map((n) => `sha256:${n}`);
  }

  async gc(keep: ReadonlySet<string>): Promise<number> {
    let removed = 0;
    const used = await this.inUse();
    // Leftovers of commits or collections a crash interrupted.
    for (const name of await fsp.readdir(join(this.root, 'snapshots')).catch(() => [] as string[])) {
      const path = join(this.root, 'snapshots', name);
      if (name.startsWith('tmp-') && !this.#tmpDirs.has(path)) await fsp.rm(path, { recursive: true, force: true });
    }
    for (const chainId of await this.list()) {
      if (keep.has(chainId) || used.has(chainId) || this.#committing.has(chainId)) continue;
      // Rename first so a crash never leaves a half-deleted snapshot under its real name.
      const doomed = join(this.root, 'snapshots', `tmp-gc-${randomBytes(6).toString('hex')}`);
      await fsp.rename(this.dir(chainId), doomed);
      await fsp.rm(doomed, { recursive: true, force: true });
      removed++;
    }
    // Init layers go with the snapshot they sit on.
    for (const name of await fsp.readdir(join(this.root, 'snapshots')).catch(() => [] as string[])) {
      const chainId = `sha256:${name.slice('init-'.length)}`;
      if (!name.startsWith('init-') || existsSync(this.dir(chainId))) continue;
      this.#inits.delete(chainId);
      const doomed = join(this.root, 'snapshots', `tmp-gc-${randomBytes(6).toString('hex')}`);
      await fsp.rename(join(this.root, 'snapshots', name), doomed);
      await fsp.rm(doomed, { recursive: true, force: true });
    }
    return removed;
  }
}
