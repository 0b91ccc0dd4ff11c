// Copy snapshotter, the fallback where overlayfs is unavailable: each snapshot is a full
// copy of its parent with the layer applied (whiteouts performed as deletions); a
// container's rootfs is a private copy bind-mounted in place.
import { execFile } from 'node:child_process';
import * as fsp from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SnapshotStore, type ApplyTarget, type Mount } from './snapshotter.ts';

const run = promisify(execFile);

/** `cp -a` keeps owners, modes, hardlinks, xattrs and devices; reflinks where the fs can. */
async function copyTree(from: string, to: string): Promise<void> {
  await fsp.rm(to, { recursive: true, force: true });
  await run('cp', ['-a', '--reflink=auto', '--', from, to]);
}

/** Full-copy snapshots; mounts are binds of a private copy. Works on any filesystem. */
export class CopySnapshotter extends SnapshotStore {
  readonly kind = 'copy' as const;

  protected async target(fs: string, parent: string | undefined): Promise<ApplyTarget> {
    if (parent) await copyTree(this.fsOf(parent), fs);
    return { root: fs, lowers: async () => [], whiteouts: 'delete' };
  }

  async prepare(id: string, chainId: string): Promise<Mount[]> {
    const rootfs = join(this.active(id), 'rootfs');
    const exists = await fsp.access(rootfs).then(() => true, () => false);
    if (!exists) {
      await this.recordActive(id, chainId).commit();
      const tmp = `${rootfs}.tmp`;
      await copyTree(this.fsOf(chainId), tmp);
      await fsp.rename(tmp, rootfs);
    }
    return [{ type: 'bind', source: rootfs, options: ['rbind', 'rw'] }];
  }
}
