// Disk usage of the image filesystem, for CRI's imageFsInfo and the node's DiskPressure.
import * as fsp from 'node:fs/promises';
import { join } from 'node:path';

/** Bytes and inodes used under a directory, and what its filesystem has left. */
export interface FsUsage {
  readonly usedBytes: number;
  readonly inodesUsed: number;
  readonly capacityBytes: number;
  readonly availableBytes: number;
}

/**
 * Walks `dir` (never following symlinks, counting hardlinked inodes once) and reads the
 * filesystem's capacity. May take a while on large stores; callers cache it.
 */
export async function diskUsage(dir: string): Promise<FsUsage> {
  const seen = new Set<bigint>();
  let usedBytes = 0;
  async function walk(path: string): Promise<void> {
    const st = await fsp.lstat(path, { bigint: true }).catch(() => undefined);
    if (!st || seen.has(st.ino)) return;
    seen.add(st.ino);
    usedBytes += Number(st.blocks) * 512;
    if (!st.isDirectory()) return;
    const names = await fsp.readdir(path).catch(() => [] as string[]);
    for (const n of names) await walk(join(path, n));
  }
  await walk(dir);
  const fs = await fsp.statfs(dir).catch(() => undefined);
  return {
    usedBytes,
    inodesUsed: seen.size,
    capacityBytes: fs ? fs.blocks * fs.bsize : 0,
    availableBytes: fs ? fs.bavail * fs.bsize : 0,
  };
}
