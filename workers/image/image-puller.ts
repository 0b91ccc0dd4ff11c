// One image pull: resolve the manifest (index → this platform), fetch config and layers
// into the content store in parallel, and unpack each layer into its chain-ID snapshot as
// soon as its blob and its parent snapshot are ready.
import { BurstletError } from '../../src/errors.ts';
import { formatReference, type ImageReference } from '../../src/oci-reference.ts';
import { putBytes, type ContentStore } from './content-store.ts';
import { parseImageConfig, type ImageConfig } from './image-config.ts';
import * as fsp from 'node:fs/promises';
import { ChunkTap, TapAbandoned } from './blob-tap.ts';
import { imageBudget, type ApplyOptions, type ApplyResult } from './layer-applier.ts';
import { applyDeferred } from './layer-fixup.ts';
import { parseManifest, selectPlatform, type ImageManifest, type LayerDescriptor, type Platform } from './manifest.ts';
import type { AuthConfig } from './registry-auth.ts';
import type { RegistryClient } from './registry-client.ts';
import { chainIds, type Snapshotter } from './snapshotter.ts';
import type { UnpackPool } from './unpack-pool.ts';

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
  readonly pool: UnpackPool;
}

const MAX_CONFIG_BYTES = 8 << 20;

export async function pull(deps: PullDeps, ref: ImageReference, auth: AuthConfig | undefined, policy: PullPolicy, progress: (p: PullProgress) => void): Promise<PullResult> {
  const name = formatReference(ref);
  const top = await deps.client.manifest(ref, ref.digest ?? ref.tag!, auth);
  let fetched = top;
  let parsed = parseManifest(name, top.bytes, top.contentType);
  const blobs = [top.digest];
  // Manifests are stored while the rest proceeds (each store waits for two fsyncs); the
  // pull succeeds only once they are in. A failed pull may leave them to GC.
  const stored: Promise<void>[] = [];
  const store = (digest: string, bytes: Buffer) => {
    const p = putBytes(deps.store, digest, bytes);
    p.catch(() => {}); // awaited below; never unhandled
    stored.push(p);
  };
  store(top.digest, top.bytes);
  if (parsed.kind === 'index') {
    const chosen = selectPlatform(name, parsed, policy.platform);
    fetched = await deps.client.manifest(ref, chosen.digest, auth);
    parsed = parseManifest(name, fetched.bytes, fetched.contentType);
    if (parsed.kind !== 'manifest') throw new BurstletError('IMAGE_PULL_FAILED', `image ${name}: index entry ${chosen.digest} is itself an index`);
    store(fetched.digest, fetched.bytes);
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
  for (const p of stored) await p;
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

/**
 * Downloads run in parallel and each layer unpacks as soon as its blob is there. Overlay
 * snapshots unpack in parallel too, finishing the parent-dependent part (applyDeferred)
 * once the parent is committed; copy snapshots need their parent's copy, so go in order.
 */
async function unpackAll(deps: PullDeps, ctx: PullContext, layers: readonly LayerDescriptor[], diffIds: readonly string[], chains: readonly string[]): Promise<void> {
  const present = await Promise.all(chains.map((c) => deps.snapshotter.has(c)));
  // Layers above the topmost present snapshot need their blobs; the rest are done already.
  const firstMissing = present.lastIndexOf(true) + 1;
  const limiter = limit(ctx.policy.parallel);
  const budget = imageBudget(ctx.policy.maxImageBytes);
  const parallel = deps.snapshotter.kind === 'overlay';
  const commits: Promise<void>[] = [];
  for (let i = firstMissing; i < layers.length; i++) {
    const layer = layers[i];
    const parentDone = i > firstMissing ? commits[i - 1] : Promise.resolve();
    // Overlay layers unpack straight from the download; copy layers wait for their parent.
    const tap = parallel ? new ChunkTap() : undefined;
    const download = limiter(() => deps.store.ingest(layer, deps.client.blobSource(ctx.endpoint, ctx.ref, layer.digest, ctx.auth), (done, total) => {
      ctx.progress({ type: 'layer', layer: layer.digest, done, total });
    }, tap));
    download.catch(() => {}); // awaited below; never unhandled
    commits[i] = (async () => {
      if (!parallel) await parentDone;
      await deps.snapshotter.commit(chains[i], i > 0 ? chains[i - 1] : undefined, async (target) => {
        const options = {
          root: target.root, deferLowers: parallel, whiteouts: target.whiteouts, devices: ctx.policy.devices,
          maxBytes: ctx.policy.maxLayerBytes, imageBudget: budget, image: ctx.name, layer: layer.digest,
        };
        const res = await unpackStreaming(deps.pool, tap, download, diffIds[i], { ...options, lowers: parallel ? [] : await target.lowers() });
        await download; // the snapshot counts only once the compressed digest is verified too
        await parentDone;
        if (parallel) applyDeferred(target.root, await target.lowers(), res.deferred, { image: ctx.name, layer: layer.digest });
        for (const skipped of res.skipped) ctx.progress({ type: 'warning', message: `image ${ctx.name} layer ${layer.digest}: device node "${skipped}" skipped` });
      });
    })();
    commits[i].catch(() => {});
  }
  // Report the lowest failing layer: upper layers fail too once their parent does.
  for (const c of commits.slice(firstMissing)) await c;
}

/**
 * Unpacks on a worker from the live download when the tap delivers it whole, else (tap
 * abandoned: the transfer resumed, the blob was already stored, ...) from the stored blob,
 * starting over in an emptied root.
 */
async function unpackStreaming(pool: UnpackPool, tap: ChunkTap | undefined, download: Promise<string>, diffId: string, options: ApplyOptions): Promise<ApplyResult> {
  if (tap) {
    try {
      return await pool.unpack(tap, diffId, options);
    } catch (err) {
      tap.cancel();
      if (!(err instanceof TapAbandoned)) {
        // A byte corrupted in transit can break decompression before the transfer's digest
        // check ends: the transfer's own verdict is the cause to report.
        const transfer = await download.then(() => undefined, (e: unknown) => e);
        if (transfer instanceof BurstletError && transfer.code === 'IMAGE_DIGEST_MISMATCH') throw transfer;
        throw err;
      }
      await fsp.rm(options.root, { recursive: true, force: true });
      await fsp.mkdir(options.root, { mode: 0o700 });
    }
  }
  return pool.unpack(await download, diffId, options);
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
