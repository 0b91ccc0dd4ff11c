// OCI image manifests and indexes, and their Docker schema2 twins: parsing into one
// shape, and choosing the entry of an index that fits the worker's platform.
import { arch } from 'node:os';
import { BurstletError } from '../../src/errors.ts';

export const MEDIA = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
} as const;

/** The Accept header for manifest requests: every kind burstlet can run. */
export const MANIFEST_ACCEPT = Object.values(MEDIA).join(', ');

export type Compression = 'gzip' | 'zstd' | 'none';

const layerMedia: Record<string, Compression> = {
  'application/vnd.oci.image.layer.v1.tar': 'none',
  'application/vnd.oci.image.layer.v1.tar+gzip': 'gzip',
  'application/vnd.oci.image.layer.v1.tar+zstd': 'zstd',
  'application/vnd.docker.image.rootfs.diff.tar.gzip': 'gzip',
  'application/vnd.docker.image.rootfs.diff.tar': 'none',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip': 'gzip',
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip': 'gzip',
};

/** A platform as OCI writes it. */
export interface Platform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
}

/** A layer to fetch: digest, compressed size, how it is compressed. */
export interface LayerDescriptor {
  readonly digest: string;
  readonly size: number;
  readonly mediaType: string;
  readonly compression: Compression;
}

/** A single-platform image manifest, whatever its original format. */
export interface ImageManifest {
  readonly kind: 'manifest';
  readonly mediaType: string;
  readonly config: { readonly digest: string; readonly size: number };
  readonly layers: readonly LayerDescriptor[];
}

/** An index / manifest list. */
export interface ImageIndex {
  readonly kind: 'index';
  readonly mediaType: string;
  readonly manifests: readonly { readonly digest: string; readonly size: number; readonly mediaType: string; readonly platform?: Platform }[];
}

const digestRe = /^sha256:[a-f0-9]{64}$/;

function bad(ref: string, why: string): BurstletError {
  return new BurstletError('IMAGE_PULL_FAILED', `image ${ref}: invalid manifest: ${why}`, { details: { image: ref } });
}

function descriptor(ref: string, d: unknown, what: string): { digest: string; size: number; mediaType: string } {
  const o = d as { digest?: unknown; size?: unknown; mediaType?: unknown };
  if (!o || typeof o.digest !== 'string' || !digestRe.test(o.digest)) throw bad(ref, `${what} has no sha256 digest`);
  if (typeof o.size !== 'number' || !Number.isSafeInteger(o.size) || o.size < 0) throw bad(ref, `${what} ${o.digest} has no valid size`);
  return { digest: o.digest, size: o.size, mediaType: typeof o.mediaType === 'string' ? o.mediaType : '' };
}

/** Parses manifest bytes; `contentType` is the registry's Content-Type header. */
export function parseManifest(ref: string, bytes: Buffer, contentType?: string): ImageManifest | ImageIndex {
  let doc: { mediaType?: string; schemaVersion?: number; manifests?: unknown[]; config?: unknown; layers?: unknown[] };
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw bad(ref, `not JSON (${(err as Error).message})`);
  }
  const mediaType = doc.mediaType ?? contentType?.split(';')[0].trim() ?? '';
  if (doc.schemaVersion !== 2) throw bad(ref, `schemaVersion ${doc.schemaVersion} is not supported (Docker schema1 images are deprecated)`);
  if (Array.isArray(doc.manifests) || mediaType === MEDIA.ociIndex || mediaType === MEDIA.dockerList) {
    if (!Array.isArray(doc.manifests)) throw bad(ref, 'index without manifests');
    return {
      kind: 'index', mediaType,
      manifests: doc.manifests.map((m, i) => ({ ...descriptor(ref, m, `manifests[${i}]`), platform: (m as { platform?: Platform }).platform })),
    };
  }
  if (!Array.isArray(doc.layers)) throw bad(ref, 'no layers');
  const layers = doc.layers.map((l, i) => {
    const d = descriptor(ref, l, `layers[${i}]`);
    const compression = layerMedia[d.mediaType];
    if (!compression) throw bad(ref, `layer ${d.digest} has unsupported media type "${d.mediaType}"`);
    return { ...d, compression };
  });
  const config = descriptor(ref, doc.config, 'config');
  return { kind: 'manifest', mediaType, config: { digest: config.digest, size: config.size }, layers };
}

const archMap: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

/** This worker's platform in OCI terms. */
export function hostPlatform(): Platform {
  const architecture = archMap[arch()] ?? arch();
  return { os: 'linux', architecture, ...(architecture === 'arm64' ? { variant: 'v8' } : {}) };
}

export function formatPlatform(p: Platform | undefined): string {
  if (!p) return 'unknown';
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}

function fits(want: Platform, have: Platform | undefined): boolean {
  if (!have || have.os !== want.os || have.architecture !== want.architecture) return false;
  const defaultVariant = want.architecture === 'arm64' ? 'v8' : undefined;
  const haveVariant = have.variant ?? defaultVariant;
  return !want.variant || !haveVariant || haveVariant === want.variant;
}

/**
 * Picks the index entry for `want`; throws IMAGE_PLATFORM_MISSING listing the platforms the
 * index offers when none fits. Attestation entries (`unknown/unknown`) are never chosen.
 */
export function selectPlatform(ref: string, index: ImageIndex, want: Platform): ImageIndex['manifests'][number] {
  const found = index.manifests.find((m) => fits(want, m.platform));
  if (found) return found;
  const offered = index.manifests.map((m) => formatPlatform(m.platform)).filter((p) => p !== 'unknown/unknown');
  throw new BurstletError('IMAGE_PLATFORM_MISSING', `image ${ref} has no variant for platform ${formatPlatform(want)}; available platforms: ${offered.join(', ') || 'none'}`, {
    details: { image: ref, platform: formatPlatform(want), available: offered },
  });
}
