/**
 * What the runtime needs from images, narrowed to a role: make an image present (by the
 * container's pull policy) and describe a container's rootfs as mounts. `imageServiceSource`
 * adapts the worker's ImageService; tests may use any directory-backed source.
 */
import { BurstletError } from '../../src/errors.ts';
import type { ContainerSpec } from '../../src/schema/pod-job.ts';
import type { ImageService, PullEvent } from '../image/image-service.ts';
import type { FileBatch } from '../executor/file-batch.ts';
import type { MountSpec } from './mounts.ts';
import type { ImageDefaults } from './spec/process.ts';

/** A present image as containers see it. */
export interface ImageInfo {
  /** The reference as the pod spelled it (ContainerStatus.image). */
  image: string;
  /** Image id (config digest), reported as ContainerStatus.imageID. */
  imageId: string;
  config: ImageDefaults;
  /** Opaque handle the source needs to prepare rootfs (snapshot chain id, dir). */
  snapshot: string;
}

/** Pull notifications in the kubelet's vocabulary; never blocks. */
export type PullNote = (reason: 'Pulling' | 'Pulled', message: string) => void;

export interface ImageSource {
  /** Ensures the image is present under the pull policy; throws ErrImagePull-style BurstletErrors. */
  ensure(container: Pick<ContainerSpec, 'image' | 'imagePullPolicy'>, auth: { username?: string; password?: string } | undefined, note: PullNote): Promise<ImageInfo>;
  /**
   * Rootfs of container `id` (a fresh writable layer over the image) as mounts, lowest first.
   * With `batch`, steps may be added to it for the caller to commit before mounting.
   */
  prepareRootfs(id: string, image: ImageInfo, batch?: FileBatch): Promise<MountSpec[]>;
  /** Drops container `id`'s writable layer (after the rootfs was unmounted). Idempotent. */
  releaseRootfs(id: string, batch?: FileBatch): Promise<void>;
}

/** The kubelet's default: Always for `:latest` or untagged, else IfNotPresent. */
export function pullPolicyOf(c: Pick<ContainerSpec, 'image' | 'imagePullPolicy'>): 'Always' | 'IfNotPresent' | 'Never' {
  if (c.imagePullPolicy) return c.imagePullPolicy;
  const name = c.image.split('@')[0];
  const tag = name.lastIndexOf(':') > name.lastIndexOf('/') ? name.slice(name.lastIndexOf(':') + 1) : '';
  return c.image.includes('@') ? 'IfNotPresent' : !tag || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

/** ImageSource over the worker's ImageService and its snapshotter. */
export function imageServiceSource(svc: ImageService): ImageSource {
  const info = async (image: string): Promise<ImageInfo | undefined> => {
    const st = await svc.imageStatus(image);
    return st && { image, imageId: st.id, config: st.config, snapshot: st.snapshot };
  };
  return {
    async ensure(c, auth, note) {
      const policy = pullPolicyOf(c);
      const present = policy === 'Always' ? undefined : await info(c.image);
      if (present) return present;
      if (policy === 'Never') {
        throw new BurstletError('IMAGE_NOT_FOUND', `Container image "${c.image}" is not present with pull policy of Never`, { details: { reason: 'ErrImageNeverPull' } });
      }
      const onEvent = (e: PullEvent) => {
        if ('type' in e && (e.type === 'Pulling' || e.type === 'Pulled')) note(e.type, e.message);
      };
      const id = await svc.pullImage(c.image, { auth: auth && { username: auth.username, password: auth.password }, onEvent });
      const got = await info(id);
      if (!got) throw new BurstletError('IMAGE_PULL_FAILED', `image ${c.image} vanished right after its pull`);
      return { ...got, image: c.image };
    },
    async prepareRootfs(id, image, batch) {
      return (await svc.snapshotter.prepare(id, image.snapshot, batch)).map((m) => ({ type: m.type, source: m.source, options: [...m.options] }));
    },
    releaseRootfs: (id, batch) => svc.snapshotter.release(id, batch),
  };
}
