// An ImageSource over a local rootfs directory: each container gets an overlay (fresh upper
// dir over the shared lower), like the overlay snapshotter, without a registry.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ImageInfo, ImageSource, PullNote } from '../../../../workers/runtime/image-source.ts';
import type { ImageDefaults } from '../../../../workers/runtime/spec/process.ts';

export const TEST_IMAGE_ID = `sha256:${'ab'.repeat(32)}`;

export function dirImageSource(lower: string, work: string, config: Partial<ImageDefaults> = {}): ImageSource & { pulls: string[] } {
  const pulls: string[] = [];
  return {
    pulls,
    async ensure(c, _auth, note: PullNote): Promise<ImageInfo> {
      if (c.image.includes('missing')) {
        const { BurstletError } = await import('../../../../src/errors.ts');
        throw new BurstletError('IMAGE_NOT_FOUND', `image ${c.image}: manifest unknown`);
      }
      pulls.push(c.image);
      note('Pulled', `Container image "${c.image}" already present on machine`);
      return {
        image: c.image, imageId: TEST_IMAGE_ID, snapshot: lower,
        config: { entrypoint: [], cmd: ['sh'], env: ['PATH=/bin'], workingDir: '', user: '', stopSignal: '', ...config },
      };
    },
    async prepareRootfs(id) {
      const dir = join(work, id);
      await mkdir(join(dir, 'upper'), { recursive: true });
      await mkdir(join(dir, 'work'), { recursive: true });
      return [{ type: 'overlay', source: 'overlay', options: [`lowerdir=${lower}`, `upperdir=${join(dir, 'upper')}`, `workdir=${join(dir, 'work')}`] }];
    },
    async releaseRootfs(id) {
      await rm(join(work, id), { recursive: true, force: true });
    },
  };
}
