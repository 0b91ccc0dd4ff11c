/**
 * Spare directories: a pod's or container's directory on the host's disk, emptied and kept
 * for the next one instead of removed (FileBatch recycle / takeSpare). Every pod made and
 * removed about a dozen directories and small files on the disk; on ext4 each new inode is
 * found by scanning past the recently freed ones (without a journal, `recently_deleted`), and
 * on a file system mounted with `discard` each freed block is a discard request, so that
 * churn cost the worker more than the rest of its file work. A spare is renamed into place,
 * its kept files overwritten in place: no inode or block changes hands.
 *
 * Which spares exist is the directory's business alone: the native steps take whichever is
 * there and count them before adding one, so a batch that never runs or fails takes nothing
 * and leaves nothing behind, and spares an earlier process left are used as they are.
 */
import { mkdirSync } from 'node:fs';
import type { FileBatch } from './file-batch.ts';

export class SpareDirs {
  readonly dir: string;
  readonly max: number;

  /** Spares live in `dir` (made here; on the same file system as the directories they replace), at most `max`. */
  constructor(dir: string, max = 64) {
    this.dir = dir;
    this.max = max;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  /** Adds making directory `path` from a spare (or anew) to `batch`. */
  take(batch: FileBatch, path: string, mode?: number): FileBatch {
    return batch.takeSpare(path, this.dir, mode);
  }

  /** Adds `path`'s recycling (keeping `keep`, see FileBatch.recycle) to `batch`: removed when there is no room. */
  give(batch: FileBatch, path: string, keep: readonly string[], mode?: number): FileBatch {
    return batch.recycle(path, this.dir, this.max, keep, mode);
  }
}
