// Fetching test images back from a registry with every digest and size checked: what the
// support tests use to prove a push really landed (and what other tests may use to compare
// their own puller's results with).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import type { RegistryClient } from './oci-client.ts';
import { MEDIA, sha256Digest } from './oci-image.ts';

/** A content descriptor as manifests and indexes carry them. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os: string; architecture: string; variant?: string };
}

/** A fetched image manifest with its config and compressed layers, all verified. */
export interface FetchedManifest {
  digest: string;
  mediaType: string;
  manifest: { mediaType?: string; config: Descriptor; layers: Descriptor[] };
  config: { architecture: string; os: string; config: Record<string, unknown>; rootfs: { diff_ids: string[] } };
  layers: Buffer[];
}

/** GETs a blob and asserts its sha256 digest and size match the descriptor. */
export async function fetchBlob(client: RegistryClient, name: string, desc: Descriptor): Promise<Buffer> {
  const res = await client.fetch(`/v2/${name}/blobs/${desc.digest}`);
  assert.equal(res.status, 200, `blob ${desc.digest} of ${name}`);
  const data = await res.buffer();
  assert.equal(data.length, desc.size, `size of ${desc.digest}`);
  assert.equal(sha256Digest(data), desc.digest, `digest of blob in ${name}`);
  return data;
}

/** Streams a blob through sha256 without keeping it (for large blobs); asserts digest and size. */
export async function verifyBlob(client: RegistryClient, name: string, desc: Descriptor): Promise<void> {
  const res = await client.fetch(`/v2/${name}/blobs/${desc.digest}`);
  assert.equal(res.status, 200, `blob ${desc.digest} of ${name}`);
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of res.body as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
  }
  assert.equal(size, desc.size, `size of ${desc.digest}`);
  assert.equal(`sha256:${hash.digest('hex')}`, desc.digest, `digest of blob in ${name}`);
}

/**
 * GETs a manifest or index by tag or digest (accepting every media type the test images use)
 * and asserts the body hashes to the registry's Docker-Content-Digest and, when given, to
 * `expectDigest`.
 */
export async function fetchManifestRaw(client: RegistryClient, name: string, reference: string, expectDigest?: string): Promise<{ digest: string; mediaType: string; body: Buffer }> {
  const accept = [MEDIA.ociIndex, MEDIA.ociManifest, MEDIA.dockerList, MEDIA.dockerManifest].join(', ');
  const res = await client.fetch(`/v2/${name}/manifests/${reference}`, { headers: { accept } });
  assert.equal(res.status, 200, `manifest ${name}:${reference}`);
  const body = await res.buffer();
  const digest = sha256Digest(body);
  assert.equal(res.headers.get('docker-content-digest'), digest, `Docker-Content-Digest of ${name}:${reference}`);
  if (expectDigest) assert.equal(digest, expectDigest, `digest of ${name}:${reference}`);
  return { digest, mediaType: res.headers.get('content-type') ?? '', body };
}

/** Fetches an image manifest with its config and layers, verifying every digest and size. */
export async function fetchManifest(client: RegistryClient, name: string, reference: string, expectDigest?: string): Promise<FetchedManifest> {
  const raw = await fetchManifestRaw(client, name, reference, expectDigest);
  const manifest = JSON.parse(raw.body.toString('utf8')) as FetchedManifest['manifest'];
  const config = JSON.parse((await fetchBlob(client, name, manifest.config)).toString('utf8')) as FetchedManifest['config'];
  const layers: Buffer[] = [];
  for (const layer of manifest.layers) layers.push(await fetchBlob(client, name, layer));
  return { digest: raw.digest, mediaType: raw.mediaType, manifest, config, layers };
}

/** Gunzips a layer and asserts it hashes to the config's diff_id. */
export function uncompressLayer(layer: Buffer, diffId: string): Buffer {
  const tar = gunzipSync(layer);
  assert.equal(sha256Digest(tar), diffId, 'diff_id of the uncompressed layer');
  return tar;
}
