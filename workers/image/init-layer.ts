// The mount points every container gets, made once per image in a read-only "init layer"
// between the image's layers and each container's writable layer (Docker's init layer, but
// shared by all containers of the image). Without it the runtime creates the missing ones at
// every start in the container's writable layer on the host's disk: busybox lacks
// /etc/hosts, /etc/hostname and /etc/resolv.conf, so each start copied /etc up and made three
// files, and each removal deleted them again — the largest part of a `/bin/true` pod's disk
// work (perf: ext4 inode allocation and freeing on the worker's pool threads).
//
// The layer only adds what the image lacks, so the container sees the image unchanged: a
// directory it holds because a mount point is made below it gets the image's mode, owner
// and times; a path whose parent is not a plain directory in the image (a symlink, a file)
// is left to the runtime, as before.
import type { Stats } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { join } from 'node:path';

export interface MountPoint {
  /** Relative to the rootfs, no leading slash. */
  readonly path: string;
  readonly kind: 'dir' | 'file';
}

/**
 * Where every worker container gets a mount (workers/runtime/spec/oci.ts defaultSpec:
 * /proc, /dev, /sys; the pod's /etc files, workers/runtime/sandbox.ts), and where most pods'
 * containers get one (the service-account token volume Kubernetes adds to a pod), with the
 * kind the runtime creates when one is missing (native/src/lib/rootfs-mounts.c: directories
 * 0755, files 0644, owned by root). What /dev holds is in its own tmpfs.
 */
export const CONTAINER_MOUNT_POINTS: readonly MountPoint[] = [
  { path: 'proc', kind: 'dir' },
  { path: 'dev', kind: 'dir' },
  { path: 'sys', kind: 'dir' },
  { path: 'etc/hosts', kind: 'file' },
  { path: 'etc/hostname', kind: 'file' },
  { path: 'etc/resolv.conf', kind: 'file' },
  { path: 'var/run/secrets/kubernetes.io/serviceaccount', kind: 'dir' },
];

const stat = (path: string): Promise<Stats | undefined> => fsp.lstat(path).catch((err: NodeJS.ErrnoException) => {
  if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return undefined;
  throw err;
});

/**
 * Fills `dir` (an empty directory) with the `points` that `merged` (the image's root as a
 * container sees it) lacks, and the parents they need.
 */
export async function fillInitLayer(merged: string, dir: string, points: readonly MountPoint[] = CONTAINER_MOUNT_POINTS): Promise<void> {
  const root = process.getuid?.() === 0;
  const seen = new Map<string, Stats | undefined>();
  const inImage = async (rel: string) => {
    if (!seen.has(rel)) seen.set(rel, await stat(join(merged, rel)));
    return seen.get(rel);
  };
  const made = new Set<string>();
  /** Parents made with the image's attributes (their times are set again at the end). */
  const copied: string[] = [];
  const make = async (rel: string, kind: 'dir' | 'file', like?: Stats) => {
    const path = join(dir, rel);
    if (kind === 'dir') await fsp.mkdir(path);
    else await fsp.writeFile(path, '', { flag: 'wx' });
    await fsp.chmod(path, like ? like.mode & 0o7777 : kind === 'dir' ? 0o755 : 0o644); // exact, whatever the umask
    if (root) await fsp.lchown(path, like?.uid ?? 0, like?.gid ?? 0);
    made.add(rel);
  };
  for (const point of points) {
    const parts = point.path.split('/');
    const parent = (i: number) => parts.slice(0, i).join('/');
    // Its parents as the image has them, up to the first one it lacks.
    let usable = true;
    let lacking = false;
    for (let i = 1; i < parts.length && !lacking; i++) {
      const st = await inImage(parent(i));
      if (!st) lacking = true;
      else if (!st.isDirectory()) usable = false;
      if (!usable) break;
    }
    if (!usable || (!lacking && (await inImage(point.path)))) continue;
    for (let i = 1; i < parts.length; i++) {
      const rel = parent(i);
      if (made.has(rel)) continue;
      // A directory in this layer hides the image's attributes of it: it takes them over.
      const like = await inImage(rel);
      await make(rel, 'dir', like);
      if (like) copied.push(rel);
    }
    await make(point.path, point.kind);
  }
  for (const rel of copied) {
    const like = seen.get(rel)!;
    await fsp.utimes(join(dir, rel), like.atimeMs / 1000, like.mtimeMs / 1000); // to ~1 µs (a Date keeps ms)
  }
}
