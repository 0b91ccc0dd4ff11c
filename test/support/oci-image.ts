// OCI / Docker schema2 image assembly for test images: digests, gzip layers, image config,
// manifest and index blobs. Pure data in, blobs out; pushing is oci-push.ts's job.
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';

/** Media types the test images use (OCI and their Docker schema2 twins). */
export const MEDIA = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

/** A content-addressed blob: in memory (`data`) or, for large layers, in a file (`path`). */
export interface Blob {
  mediaType: string;
  digest: string;
  size: number;
  data?: Buffer;
  path?: string;
}

/** A compressed layer plus the digest of its uncompressed tar (the config's diff_id). */
export interface Layer extends Blob {
  diffId: string;
}

/** Where an image runs; `variant` as in the OCI image index platform object. */
export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/** Process defaults of the image config (the `config` object of the OCI image config). */
export interface ProcessConfig {
  Env?: string[];
  Cmd?: string[];
  Entrypoint?: string[];
  WorkingDir?: string;
  User?: string;
}

/** One image manifest with the blobs it references, in push order (layers, config). */
export interface BuiltManifest {
  manifest: Blob;
  config: Blob;
  layers: Layer[];
  platform: Platform;
}

/** Fixed creation time of every test image, so configs (and digests) are stable. */
export const IMAGE_CREATED = '2020-09-13T12:26:40Z';

/** 'sha256:<hex>' of `data`. */
export function sha256Digest(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** Gzips an uncompressed layer tar (Node's gzip header has mtime 0, so this is deterministic). */
export function gzipLayer(tar: Buffer, mediaType: string = MEDIA.ociLayerGzip): Layer {
  const data = gzipSync(tar, { level: 6 });
  return { mediaType, digest: sha256Digest(data), size: data.length, data, diffId: sha256Digest(tar) };
}

/** Builds config + manifest for `layers` (bottom first). `docker` selects schema2 media types. */
export function buildManifest(
  layers: Layer[],
  platform: Platform,
  process: ProcessConfig,
  docker = false,
): BuiltManifest {
  const config = jsonBlob(docker ? MEDIA.dockerConfig : MEDIA.ociConfig, {
    created: IMAGE_CREATED,
    architecture: platform.architecture,
    ...(platform.variant ? { variant: platform.variant } : {}),
    os: platform.os,
    config: process,
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history: layers.map(() => ({ created: IMAGE_CREATED, created_by: 'burstlet test image builder' })),
  });
  const layerType = docker ? MEDIA.dockerLayerGzip : MEDIA.ociLayerGzip;
  const typedLayers = layers.map((l) => ({ ...l, mediaType: layerType }));
  const manifest = jsonBlob(docker ? MEDIA.dockerManifest : MEDIA.ociManifest, {
    schemaVersion: 2,
    mediaType: docker ? MEDIA.dockerManifest : MEDIA.ociManifest,
    config: descriptor(config),
    layers: typedLayers.map(descriptor),
  });
  return { manifest, config, layers: typedLayers, platform };
}

/** Builds an image index (OCI) or manifest list (Docker) over already built manifests. */
export function buildIndex(manifests: BuiltManifest[], docker = false): Blob {
  const mediaType = docker ? MEDIA.dockerList : MEDIA.ociIndex;
  return jsonBlob(mediaType, {
    schemaVersion: 2,
    mediaType,
    manifests: manifests.map((m) => ({ ...descriptor(m.manifest), platform: m.platform })),
  });
}

function descriptor(blob: Blob): { mediaType: string; digest: string; size: number } {
  return { mediaType: blob.mediaType, digest: blob.digest, size: blob.size };
}

function jsonBlob(mediaType: string, value: unknown): Blob {
  const data = Buffer.from(JSON.stringify(value), 'utf8');
  return { mediaType, digest: sha256Digest(data), size: data.length, data };
}
