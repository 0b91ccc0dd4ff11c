// Image records: which manifest, config, layers and snapshots make up each pulled image and
// which names point at it. One JSON file per image, written atomically; the references
// held here are what blob and snapshot GC keep.
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { join } from 'node:path';
import type { ImageConfig } from './image-config.ts';

/** A pulled image. The id is the config digest, as CRI runtimes report it. */
export interface ImageRecord {
  readonly id: string;
  /** Canonical `registry/repo:tag` names pointing here. */
  repoTags: string[];
  /** Canonical `registry/repo@sha256:` names (manifest digests). */
  repoDigests: string[];
  /** Pulled by digest at least once: its digest name keeps it when it loses every tag. */
  readonly byDigest: boolean;
  readonly manifestDigest: string;
  /** Every blob this image holds: index (if any), manifest, config, layers. */
  readonly blobs: readonly string[];
  /** Snapshot chain IDs, bottom first; the last one is the rootfs parent. */
  readonly chainIds: readonly string[];
  /** Compressed bytes of config + layers, as the kubelet's "Image size". */
  readonly size: number;
  readonly config: ImageConfig;
  readonly pulledAt: string;
}

/**
 * Files records under `<root>/images/`; callers serialise writes per image themselves. The
 * records are read from disk once and then kept in memory, updated by `put` and `delete`:
 * every pod start looks its image up, and reading every record file for it showed in
 * profiles. This store is the only writer of its directory (the worker's ImageService).
 * Callers get copies: changing one changes nothing until it is `put`.
 */
export class ImageStore {
  readonly dir: string;
  #records: Map<string, ImageRecord> | undefined;

  constructor(root: string) {
    this.dir = join(root, 'images');
  }

  #path(id: string): string {
    return join(this.dir, `${id.replace(/^sha256:/, '')}.json`);
  }

  /** The records by id, read from disk the first time (a record that does not parse is skipped). */
  #all(): Map<string, ImageRecord> {
    if (this.#records) return this.#records;
    let names: string[] = [];
    try {
      names = readdirSync(this.dir);
    } catch {
      // no images yet
    }
    const records = new Map<string, ImageRecord>();
    for (const n of names.filter((x) => /^[a-f0-9]{64}\.json$/.test(x))) {
      try {
        const rec = JSON.parse(readFileSync(join(this.dir, n), 'utf8')) as ImageRecord;
        records.set(rec.id, rec);
      } catch {
        // unreadable or half-written by a crash: not an image
      }
    }
    this.#records = records;
    return records;
  }

  async get(id: string): Promise<ImageRecord | undefined> {
    const rec = this.#all().get(id);
    return rec && { ...rec };
  }

  async list(): Promise<ImageRecord[]> {
    return [...this.#all().values()].map((r) => ({ ...r }));
  }

  /** The image a canonical name (tag or digest form) or an image id points at. */
  async find(name: string): Promise<ImageRecord | undefined> {
    if (/^sha256:[a-f0-9]{64}$/.test(name)) return this.get(name);
    for (const r of this.#all().values()) if (r.repoTags.includes(name) || r.repoDigests.includes(name)) return { ...r };
    return undefined;
  }

  /** Writes a record atomically (temp + fsync + rename). */
  async put(rec: ImageRecord): Promise<void> {
    await fsp.mkdir(this.dir, { recursive: true });
    const tmp = join(this.dir, `.tmp-${randomBytes(6).toString('hex')}`);
    const fh = await fsp.open(tmp, 'w');
    try {
      await fh.writeFile(JSON.stringify(rec));
      await fh.sync();
    } finally {
      await fh.close();
    }
    try {
      await fsp.rename(tmp, this.#path(rec.id));
    } catch (err) {
      this.#records = undefined; // read again from what the disk holds
      throw err;
    }
    this.#all().set(rec.id, { ...rec, repoTags: [...rec.repoTags], repoDigests: [...rec.repoDigests] });
  }

  async delete(id: string): Promise<void> {
    try {
      await fsp.rm(this.#path(id), { force: true });
    } catch (err) {
      this.#records = undefined;
      throw err;
    }
    this.#records?.delete(id);
  }

  /**
   * Records that `tag` now names image `id`: moves the tag off any other image, and deletes
   * images left with no name at all (their content becomes garbage for GC). True when
   * one was deleted.
   */
  async retag(tag: string, id: string): Promise<boolean> {
    let orphaned = false;
    for (const rec of await this.list()) {
      if (rec.id === id || !rec.repoTags.includes(tag)) continue;
      rec.repoTags = rec.repoTags.filter((t) => t !== tag);
      // An image only ever named by tags goes when its last tag moves on (as in containerd).
      if (rec.repoTags.length === 0 && !rec.byDigest) {
        await this.delete(rec.id);
        orphaned = true;
      } else {
        await this.put(rec);
      }
    }
    return orphaned;
  }
}
