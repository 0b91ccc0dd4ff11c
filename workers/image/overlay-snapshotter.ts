// Overlay snapshotter: each layer is its own directory; a container's rootfs is overlayfs
// with the layers as lowerdirs, topped by the image's init layer of mount points
// (init-layer.ts, made once per image), and a per-container upper and work dir.
import { join } from 'node:path';
import type { FileBatch } from '../executor/file-batch.ts';
import { SpareDirs } from '../executor/spare-dirs.ts';
import { SnapshotStore, type ApplyTarget, type Mount } from './snapshotter.ts';

/** One directory per layer; mounts are overlayfs. Needs root and overlayfs in the kernel. */
export class OverlaySnapshotter extends SnapshotStore {
  readonly kind = 'overlay' as const;

  constructor(root: string) {
    super(root);
    // A released container's dir (its snapshot record, upper and work emptied) is the next
    // one's: see spare-dirs.ts. upper's owner, mode and xattrs are reset: they are the root
    // directory a container sees.
    this.spares = new SpareDirs(join(root, 'spare'));
    this.keepOnRecycle = ['snapshot', 'upper', 'work'];
  }

  protected async target(fs: string, parent: string | undefined): Promise<ApplyTarget> {
    return { root: fs, lowers: () => this.lineage(parent), whiteouts: 'overlay' };
  }

  async prepare(id: string, chainId: string, batch?: FileBatch): Promise<Mount[]> {
    const lowers = await this.lineage(chainId);
    const init = await this.initLayer(chainId, lowers);
    const base = this.active(id);
    const dirs = this.recordActive(id, chainId, batch).dir(join(base, 'upper'), 0o755).dir(join(base, 'work'), 0o700);
    if (!batch) await dirs.commit();
    // Kernels before 5.x refuse a lone lowerdir without upper; with an upper one lower is fine.
    return [{
      type: 'overlay',
      source: 'overlay',
      options: ['index=off', `lowerdir=${(init ? [init, ...lowers] : lowers).join(':')}`, `upperdir=${join(base, 'upper')}`, `workdir=${join(base, 'work')}`],
    }];
  }
}
