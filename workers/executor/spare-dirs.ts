/**
 * Spare directories: a pod's or container's directory on the host's disk, emptied and kept
 * for the next one instead of removed (FileBatch recycle / takeSpare). Every pod made and
 * removed about a dozen directories and small files on the disk; on ext4 each new inode is
 * found by scanning past the recently freed ones (without a journal, `recently_deleted`), and
 * on a file system mounted with `discard` each freed block is a discard request, so that
 * churn cost the worker more than the rest of its file work. A spare is renamed into place,
 * its kept files overwritten in place: no inode or block changes hands.
 *
 * The pool is this process's view: a spare a failed step did not make, or removed instead,
 * is only a missed reuse (takeSpare then makes the directory). Spares left by an earlier
 * process are found again by `load`.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FileBatch } from './file-batch.ts';

const NAME = /^s-[0-9a-f]{16}$/;

export class SpareDirs {
  readonly dir: string;
  readonly max: number;
  readonly #free: string[] = [];
  #pending = 0;

  /** Spares live in `dir` (on the same file system as the directories they replace), at most `max`. */
  constructor(dir: string, max = 64) {
    this.dir = dir;
    this.max = max;
  }

  /** Makes the spare directory and adopts the spares an earlier process left there. */
  load(): this {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    for (const n of readdirSync(this.dir)) if (NAME.test(n) && this.#free.length < this.max) this.#free.push(join(this.dir, n));
    return this;
  }

  /** How many spares are ready. */
  get size(): number {
    return this.#free.length;
  }

  /** A spare's path for `batch.takeSpare`, or undefined when there is none. */
  take(): string | undefined {
    return this.#free.pop();
  }

  /**
   * Adds `path`'s recycling to `batch` (keeping `keep`, see FileBatch.recycle) when the pool
   * has room, else its removal; the spare is offered once the batch has run.
   */
  give(batch: FileBatch, path: string, keep: readonly string[], mode?: number): FileBatch {
    if (this.#free.length + this.#pending >= this.max) return batch.removeTree(path);
    const spare = join(this.dir, `s-${randomBytes(8).toString('hex')}`);
    this.#pending++;
    return batch.recycle(path, spare, keep, mode).onSettled(() => {
      this.#pending--;
      this.#free.push(spare);
    });
  }
}
