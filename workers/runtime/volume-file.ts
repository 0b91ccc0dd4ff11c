/**
 * Replacing one file of a running pod's volume (a refreshed service-account token), the way
 * the kubelet's atomic writer guarantees it: a reader in the container sees the old file or
 * the new one, never a partial one. The new content goes to a temp file next to the target
 * (same directory, so the same filesystem) with the target's mode and owner, is synced, and
 * renamed over it. Only a regular file the volume already has is replaced, only inside the
 * volume's directory (no new files, no symlinks followed out of it), and only in a volume
 * containers cannot write (file volumes are mounted read-only; an emptyDir is refused).
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, open, realpath, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, sep } from 'node:path';
import { BurstletError } from '../../src/errors.ts';
import { safeRelative } from './volumes.ts';

/** What a replacement found: 'written', or 'missing' (no such volume or file yet). */
export type ReplaceResult = 'written' | 'missing';

const isMissing = (err: unknown) => (err as NodeJS.ErrnoException).code === 'ENOENT';

/**
 * Atomically replaces `path` (relative) under the volume directory `dir` with `content`.
 * Resolves 'missing' when the directory or the file does not exist (the pod's volumes may
 * not be set up yet); throws a BurstletError for a path that is not a regular file inside
 * the volume. Not safe against a concurrent writer of the same file (callers serialize).
 */
export async function replaceVolumeFile(dir: string, path: string, content: Buffer): Promise<ReplaceResult> {
  const volume = basename(dir);
  const rel = safeRelative(volume, path, 'file path');
  const refuse = (msg: string) => new BurstletError('INVALID_INPUT', `volume "${volume}": ${msg}`, { details: { volume, path } });
  let base: string;
  let parent: string;
  try {
    base = await realpath(dir);
    parent = await realpath(dirname(join(base, rel)));
  } catch (err) {
    if (isMissing(err)) return 'missing';
    throw err;
  }
  // A symlinked directory on the way must not lead out of the volume.
  if (parent !== base && !parent.startsWith(base + sep)) throw refuse(`"${path}" is outside the volume`);
  // Containers may write an emptyDir (mode 0777) and swap its paths under us: file volumes only.
  if ((await lstat(base)).mode & 0o002) throw refuse('is writable by containers; only file volumes are updated');
  const target = join(parent, basename(rel));
  const st = await lstat(target).catch((err) => {
    if (isMissing(err)) return undefined;
    throw err;
  });
  if (!st) return 'missing';
  if (!st.isFile()) throw refuse(`"${path}" is not a regular file`);
  const mode = st.mode & 0o7777;
  const tmp = join(parent, `..${basename(rel)}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
  try {
    await fh.writeFile(content);
    await fh.chown(st.uid, st.gid);
    await fh.chmod(mode); // open's mode went through the umask
    await fh.sync();
    await fh.close();
    await rename(tmp, target);
  } catch (err) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw err;
  }
  return 'written';
}
