// The worker's ImageService, shaped like CRI's: pullImage, imageStatus, listImages,
// removeImage, imageFsInfo. It owns single-flight per image, the kubelet's pull back-off,
// image records and garbage collection of blobs and snapshots no image uses.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { asBurstletError, BurstletError } from '../../src/errors.ts';
import { formatReference, parseReference, repositoryName, type ImageReference } from '../../src/oci-reference.ts';
import { ContentStore } from './content-store.ts';
import { CopySnapshotter } from './copy-snapshotter.ts';
import { diskUsage, type FsUsage } from './disk-usage.ts';
import type { ImageConfig } from './image-config.ts';
import { pull, type PullPolicy, type PullProgress } from './image-puller.ts';
import { ImageStore, type ImageRecord } from './image-store.ts';
import { hostPlatform, type Platform } from './manifest.ts';
import { OverlaySnapshotter } from './overlay-snapshotter.ts';
import { PullBackoff } from './pull-backoff.ts';
import { authFromDockerConfigs, type AuthConfig } from './registry-auth.ts';
import { RegistryClient, type RegistryClientOptions } from './registry-client.ts';
import type { Mount, SnapshotStore } from './snapshotter.ts';
import { sharedUnpackPool } from './unpack-pool.ts';

/** Worker configuration for images. Plain data. */
export interface ImageServiceOptions {
  /** Directory for blobs, snapshots, records (e.g. /var/lib/burstlet/images). */
  readonly root: string;
  readonly registry?: RegistryClientOptions;
  /** Defaults to this host's platform. */
  readonly platform?: Platform;
  /** `auto`: overlay where the kernel has it and we are root, else copy. */
  readonly snapshotter?: 'overlay' | 'copy' | 'auto';
  /** Device nodes in layers: skipped (default), refused, or created. */
  readonly devices?: 'skip' | 'refuse' | 'allow';
  /** Uncompressed bytes per layer (default 4 GiB) and per image (default 16 GiB). */
  readonly maxLayerBytes?: number;
  readonly maxImageBytes?: number;
  /** Parallel layer downloads per pull (default 6). */
  readonly parallelDownloads?: number;
  /** Clock for the pull back-off (tests). */
  readonly now?: () => number;
}

/** Pull events in the kubelet's vocabulary (Pulling / Pulled) plus per-layer progress. */
export type PullEvent =
  | { readonly type: 'Pulling'; readonly image: string; readonly message: string }
  | { readonly type: 'Pulled'; readonly image: string; readonly imageId: string; readonly size: number; readonly durationMs: number; readonly message: string }
  | ({ readonly image: string } & PullProgress);

/** Per-call pull options: credentials (CRI AuthConfig or imagePullSecrets) and an event sink. */
export interface PullOptions {
  readonly auth?: AuthConfig;
  /** Docker config JSON of the pod's imagePullSecrets, tried when `auth` is absent. */
  readonly pullSecrets?: readonly (string | object)[];
  /** Never blocks; called synchronously. */
  readonly onEvent?: (e: PullEvent) => void;
}

/** CRI's Image message, plus the runnable config. */
export interface ImageStatus {
  readonly id: string;
  readonly repoTags: readonly string[];
  readonly repoDigests: readonly string[];
  readonly size: number;
  readonly config: ImageConfig;
  /** Snapshot the rootfs sits on (the top chain ID). */
  readonly snapshot: string;
}

/** CRI's FilesystemUsage for the image filesystem. */
export interface ImageFsInfo extends FsUsage {
  readonly timestamp: number;
  readonly mountpoint: string;
}

function overlayUsable(): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    return /\toverlay\n/.test(readFileSync('/proc/filesystems', 'utf8'));
  } catch {
    return false;
  }
}

/**
 * One per worker host (it owns `options.root`). All methods may block on disk or network;
 * every user-caused failure is a BurstletError whose `reason` is the kubelet's.
 */
export class ImageService {
  readonly store: ContentStore;
  readonly images: ImageStore;
  readonly snapshotter: SnapshotStore;
  #client: RegistryClient;
  #policy: PullPolicy;
  #backoff: PullBackoff;
  #flights = new Map<string, { work: Promise<string>; listeners: Set<(e: PullEvent) => void> }>();
  #gcWanted = false;
  #pool = sharedUnpackPool();

  constructor(options: ImageServiceOptions) {
    this.store = new ContentStore(join(options.root, 'content'));
    this.images = new ImageStore(options.root);
    const kind = options.snapshotter ?? 'auto';
    const useOverlay = kind === 'overlay' || (kind === 'auto' && overlayUsable());
    this.snapshotter = useOverlay ? new OverlaySnapshotter(join(options.root, 'overlay')) : new CopySnapshotter(join(options.root, 'copy'));
    this.#client = new RegistryClient(options.registry);
    this.#backoff = new PullBackoff(options.now);
    this.#policy = {
      platform: options.platform ?? hostPlatform(),
      devices: options.devices ?? 'skip',
      maxLayerBytes: options.maxLayerBytes ?? 4 * 2 ** 30,
      maxImageBytes: options.maxImageBytes ?? 16 * 2 ** 30,
      parallel: options.parallelDownloads ?? 6,
    };
  }

  /**
   * Pulls `image` and returns its id (config digest). Concurrent pulls of one image share
   * one flight; blobs and snapshots already present are not fetched again. Failures are
   * BurstletErrors (ErrImagePull reasons; InvalidImageName; ImagePullBackOff while backing off).
   */
  pullImage(image: string, options: PullOptions = {}): Promise<string> {
    let ref: ImageReference;
    let name: string;
    try {
      ref = parseReference(image);
      name = formatReference(ref);
      this.#backoff.check(name);
    } catch (err) {
      return Promise.reject(err);
    }
    let flight = this.#flights.get(name);
    if (flight) {
      if (options.onEvent) flight.listeners.add(options.onEvent);
      return flight.work;
    }
    const listeners = new Set<(e: PullEvent) => void>(options.onEvent ? [options.onEvent] : []);
    const work = this.#pull(ref, name, options, (e) => listeners.forEach((l) => l(e))).finally(() => {
      this.#flights.delete(name);
      if (this.#flights.size === 0 && this.#gcWanted) void this.gc().catch(() => {});
    });
    flight = { work, listeners };
    this.#flights.set(name, flight);
    return work;
  }

  async #pull(ref: ImageReference, name: string, options: PullOptions, emit: (e: PullEvent) => void): Promise<string> {
    const started = Date.now();
    emit({ type: 'Pulling', image: name, message: `Pulling image "${name}"` });
    const auth = options.auth ?? (options.pullSecrets ? authFromDockerConfigs(options.pullSecrets, ref.registry) : undefined);
    try {
      const res = await pull({ client: this.#client, store: this.store, snapshotter: this.snapshotter, pool: this.#pool }, ref, auth, this.#policy, (p) => emit({ image: name, ...p }));
      const old = await this.images.get(res.configDigest);
      const tag = ref.tag !== undefined ? `${repositoryName(ref)}:${ref.tag}` : undefined;
      const digestName = `${repositoryName(ref)}@${res.manifestDigest}`;
      const record: ImageRecord = {
        id: res.configDigest,
        repoTags: [...new Set([...(old?.repoTags ?? []), ...(tag ? [tag] : [])])],
        repoDigests: [...new Set([...(old?.repoDigests ?? []), digestName])],
        byDigest: (old?.byDigest ?? false) || ref.tag === undefined,
        manifestDigest: res.manifestDigest,
        blobs: [...new Set([...(old?.blobs ?? []), ...res.blobs])],
        chainIds: res.chainIds,
        size: res.size,
        config: res.config,
        pulledAt: new Date().toISOString(),
      };
      await this.images.put(record);
      if (tag && (await this.images.retag(tag, record.id))) this.#gcWanted = true; // runs once no pull is in flight
      this.#backoff.succeeded(name);
      const durationMs = Date.now() - started;
      emit({
        type: 'Pulled', image: name, imageId: record.id, size: res.size, durationMs,
        message: `Successfully pulled image "${name}" in ${(durationMs / 1000).toFixed(3)}s. Image size: ${res.size} bytes.`,
      });
      return record.id;
    } catch (err) {
      const e = asBurstletError(err, 'IMAGE_PULL_FAILED');
      this.#backoff.failed(name, e.message);
      throw e;
    }
  }

  /** The image `image` names (reference or id), or undefined when not present. */
  async imageStatus(image: string): Promise<ImageStatus | undefined> {
    const rec = await this.#find(image);
    return rec ? toStatus(rec) : undefined;
  }

  async listImages(): Promise<ImageStatus[]> {
    return (await this.images.list()).map(toStatus);
  }

  /** Removes the image (all its names) and collects what nothing else uses. Idempotent. */
  async removeImage(image: string): Promise<void> {
    const rec = await this.#find(image);
    if (!rec) return;
    await this.images.delete(rec.id);
    await this.gc();
  }

  /**
   * Deletes blobs and snapshots no image record (and no prepared container) references.
   * Deferred while pulls are in flight, since their content is not recorded yet.
   */
  async gc(): Promise<{ bytes: number; snapshots: number }> {
    if (this.#flights.size > 0) {
      this.#gcWanted = true;
      return { bytes: 0, snapshots: 0 };
    }
    this.#gcWanted = false;
    const records = await this.images.list();
    const blobs = new Set(records.flatMap((r) => r.blobs));
    const chains = new Set(records.flatMap((r) => r.chainIds));
    return { bytes: await this.store.gc(blobs), snapshots: await this.snapshotter.gc(chains) };
  }

  /** Usage of the whole image root (blobs + snapshots + container layers). */
  async imageFsInfo(): Promise<ImageFsInfo> {
    const root = join(this.store.root, '..');
    return { ...(await diskUsage(root)), timestamp: Date.now(), mountpoint: root };
  }

  /** The rootfs mounts for container `containerId` from `image` (must be present). */
  async prepareRootfs(containerId: string, image: string): Promise<Mount[]> {
    const rec = await this.#find(image);
    if (!rec) throw new BurstletError('IMAGE_NOT_FOUND', `image ${image} is not present on this worker`, { details: { image } });
    const top = rec.chainIds.at(-1);
    if (!top) throw new BurstletError('IMAGE_PULL_FAILED', `image ${image} has no layers`);
    return this.snapshotter.prepare(containerId, top);
  }

  /** Drops a container's writable layer (after the runtime unmounted its rootfs). */
  releaseRootfs(containerId: string): Promise<void> {
    return this.snapshotter.release(containerId);
  }

  async #find(image: string): Promise<ImageRecord | undefined> {
    if (/^(sha256:)?[a-f0-9]{64}$/.test(image)) return this.images.get(image.startsWith('sha256:') ? image : `sha256:${image}`);
    const ref = parseReference(image);
    const repo = repositoryName(ref);
    return this.images.find(ref.digest ? `${repo}@${ref.digest}` : `${repo}:${ref.tag}`);
  }
}

function toStatus(r: ImageRecord): ImageStatus {
  return { id: r.id, repoTags: r.repoTags, repoDigests: r.repoDigests, size: r.size, config: r.config, snapshot: r.chainIds.at(-1) ?? '' };
}
