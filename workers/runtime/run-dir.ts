/**
 * The worker's run directory, `<stateDir>/run`: what lives exactly as long as the pods do —
 * the executor's state and meta, the container bundles (config.json, record.json, the rootfs
 * mount point), each pod's pod.json and pause bundle. As containerd keeps its state in
 * /run/containerd and runc in /run/runc, it is a tmpfs: those files are made and removed for
 * every container, and on a disk each costs an inode allocation and, on a file system
 * mounted with `discard`, a synchronous discard when it goes (`npm run bench -- worker`
 * measured the worker's CPU per pod ~14 % lower). A tmpfs is also right after a reboot: the
 * containers are gone, and so is their state, so nothing stale is re-adopted. It survives the worker process, so a restarted worker re-adopts its pods.
 *
 * Logs, termination messages, /etc files, disk-backed emptyDir and configMap/secret volumes
 * stay under `<stateDir>/runtime` on disk (nothing a container writes lands in the tmpfs),
 * and the image store and snapshots (the containers' writable layers) under
 * `<stateDir>/images`.
 *
 * Without root (or where mounting is refused) the run directory is a plain directory.
 */
import { mkdirSync, readdirSync, rmSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { loadNativeLib } from '../executor/native-lib.ts';

const TMPFS_MAGIC = 0x01021994;
/** Holds small files only (bundles, records, executor state); a runaway writer cannot take the host's memory. */
const RUN_DIR_SIZE = '256m';

export interface RunDir {
  path: string;
  /** Whether it is a tmpfs (mounted now or by an earlier worker process). */
  tmpfs: boolean;
}

const isTmpfs = (path: string) => statfsSync(path).type === TMPFS_MAGIC;

/** Makes `path` and mounts a tmpfs on it unless it is one already; falls back to a plain directory. */
export function prepareRunDir(path: string, warn: (msg: string) => void = () => {}): RunDir {
  mkdirSync(path, { recursive: true, mode: 0o711 });
  if (isTmpfs(path)) return { path, tmpfs: true };
  if (process.getuid?.() !== 0) return { path, tmpfs: false };
  try {
    loadNativeLib().mount({ type: 'tmpfs', source: 'burstlet-run', target: path, data: `mode=0711,size=${RUN_DIR_SIZE}` });
    return { path, tmpfs: true };
  } catch (err) {
    warn(`run directory ${path} stays on disk: ${(err as Error).message}`);
    return { path, tmpfs: false };
  }
}

/** Whether anything but directories is below `path`. */
function holdsFiles(path: string): boolean {
  let list;
  try {
    list = readdirSync(path, { withFileTypes: true });
  } catch {
    return false;
  }
  return list.some((e) => !e.isDirectory() || holdsFiles(join(path, e.name)));
}

/**
 * When the worker exits: unmounts the tmpfs and removes the directory if nothing but empty
 * directories is left in it; otherwise (pods still running, to be re-adopted) keeps both.
 * Returns whether it went.
 */
export function releaseRunDir(dir: RunDir): boolean {
  if (holdsFiles(dir.path)) return false;
  try {
    if (dir.tmpfs && isTmpfs(dir.path)) loadNativeLib().unmount(dir.path);
    rmSync(dir.path, { recursive: true });
    return true;
  } catch {
    return false;
  }
}
