// One image pull: resolve the manifest (index → this platform), fetch config and layers
// into the content store in parallel, and unpack each layer into its chain-ID snapshot as
// soon as its blob and its parent snapshot are ready.
import { BurstletError } from '../../src/errors.ts';
import { formatReference, type ImageReference } from '../../src/oci-reference.ts';
import { putBytes, type ContentStore } from './content-store.ts';
import { parseImageConfig, type ImageConfig } from './image-config.ts';
import { unpackLayer } from './layer-unpacker.ts';
import { parseManifest, selectPlatform, type ImageManifest, type LayerDescriptor, type Platform } from './manifest.ts';
import type { AuthConfig } from './registry-auth.ts';
import type { RegistryClient } from './registry-client.ts';
import { chainIds, type Snapshotter } from './snapshotter.ts';

/** Limits and policy for one pull. */
export interface PullPolicy {
  readonly platform: Platform;
  readonly devices: 'skip' | 'refuse' | 'allow';
  /** Uncompressed bytes per layer. */
  readonly maxLayerBytes: number;
  /** Uncompressed bytes per image (all layers). */
  readonly maxImageBytes: number;
  /** Layer downloads running at once. */
  readonly parallel: number;
}

/** Progress of one pull, for pod events and the UI. */
export type PullProgress =
  | { readonly type: 'layer'; readonly layer: string; readonly done: number; readonly total: number }
  | { readonly type: 'warning'; readonly message: string };

/** Everything the image record needs from a finished pull. */
export interface PullResult {
  readonly manifestDigest: string;
  readonly configDigest: string;
  readonly config: ImageConfig;
  readonly blobs: string[];
  readonly chainIds: string[];
  readonly size: number;
}

/** The parts a pull works with. */
export interface PullDeps {
  readonly client: RegistryClient;
  readonly store: ContentStore;
  readonly snapshotter: Snapshotter;
}

const MAX_CONFIG_BYTES = 8 << 20;

export async function pull(deps: PullDeps, ref: ImageReference, auth: AuthConfig | undefined, policy: PullPolicy, progress: (p: PullProgress) => void): Promise<PullResult> {
  const name = formatReference(ref);
  const top = await deps.client.manifest(ref, ref.digest ?? ref.tag!, auth);
  let fetched = top;
  let parsed = parseManifest(name, top.bytes, top.contentType);
  const blobs = [top.digest];
  await putBytes(deps.store, top.digest, top.bytes);
  if (parsed.kind === 'index') {
    const chosen = selectPlatform(name, parsed, policy.platform);
    fetched = await deps.client.manifest(ref, chosen.digest, auth);
    parsed = parseManifest(name, fetched.bytes, fetched.contentType);
    if (parsed.kind !== 'manifest') throw new BurstletError('IMAGE_PULL_FAILED', `image ${name}: index entry ${chosen.digest} is itself an index`);
    await putBytes(deps.store, fetched.digest, fetched.bytes);
    blobs.push(fetched.digest);
  }
  const manifest: ImageManifest = parsed;
  const endpoint = fetched.endpoint;
  await deps.store.ingest(manifest.config, deps.client.blobSource(endpoint, ref, manifest.config.digest, auth));
  const config = parseImageConfig(name, await deps.store.readVerified(manifest.config.digest, MAX_CONFIG_BYTES));
  if (config.diffIds.length !== manifest.layers.length) {
    throw new BurstletError('IMAGE_PULL_FAILED', `image ${name}: config lists ${config.diffIds.length} layers, manifest ${manifest.layers.length}`);
  }
  const chains = chainIds(config.diffIds);
  await unpackAll(deps, { ref, name, auth, endpoint, policy, progress }, manifest.layers, config.diffIds, chains);
  blobs.push(manifest.config.digest, ...manifest.layers.map((l) => l.digest));
  const size = manifest.config.size + manifest.layers.reduce((n, l) => n + l.size, 0);
  return { manifestDigest: top.digest, configDigest: manifest.config.digest, config, blobs, chainIds: chains, size };
}

interface PullContext {
  readonly ref: ImageReference;
  readonly name: string;
  readonly auth: AuthConfig | undefined;
  readonly endpoint: string;
  readonly policy: PullPolicy;
  readonly progress: (p: PullProgress) => void;
}

/** Downloads run ahead in parallel; unpacking follows in layer order (overlay lookups need parents). */
async function unpackAll(deps: PullDeps, ctx: PullContext, layers: readonly LayerDescriptor[], diffIds: readonly string[], chains: readonly string[]): Promise<void> {
  const present = await Promise.all(chains.map((c) => deps.snapshotter.has(c)));
  // Layers above the topmost present snapshot need their blobs; the rest are done already.
  const firstMissing = present.lastIndexOf(true) + 1;
  const limiter = limit(ctx.policy.parallel);
  const downloads = layers.map((layer, i) =>
    i < firstMissing ? Promise.resolve('') : limiter(() => deps.store.ingest(layer, deps.client.blobSource(ctx.endpoint, ctx.ref, layer.digest, ctx.auth), (done, total) => {
      ctx.progress({ type: 'layer', layer: layer.digest, done, total });
    })));
  for (const d of downloads) d.catch(() => {}); // awaited below, in order; never unhandled
  let budget = ctx.policy.maxImageBytes;
  for (let i = firstMissing; i < layers.length; i++) {
    const blob = await downloads[i];
    const layer = layers[i];
    await deps.snapshotter.commit(chains[i], i > 0 ? chains[i - 1] : undefined, async (target) => {
      const maxBytes = Math.min(ctx.policy.maxLayerBytes, budget);
      const res = await unpackLayer(blob, diffIds[i], { ...target, devices: ctx.policy.devices, maxBytes, image: ctx.name, layer: layer.digest }).catch((err) => {
        if (err instanceof BurstletError && err.code === 'IMAGE_TOO_LARGE' && maxBytes < ctx.policy.maxLayerBytes) {
          throw new BurstletError('IMAGE_TOO_LARGE', `${err.message.replace(/ \(decompression bomb\?\)$/, '')}: image exceeds its ${ctx.policy.maxImageBytes}-byte limit`, { cause: err, details: err.details });
        }
        throw err;
      });
      budget -= res.bytes;
      for (const skipped of res.skipped) ctx.progress({ type: 'warning', message: `image ${ctx.name} layer ${layer.digest}: device node "${skipped}" skipped` });
    });
  }
}

/** A tiny concurrency limiter: at most `n` of the returned wrapper's tasks run at once. */
function limit(n: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const queue: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (running >= n) await new Promise<void>((r) => queue.push(r));
    running++;
    try {
      return await task();
    } finally {
      running--;
      queue.shift()?.();
    }
  };
}
