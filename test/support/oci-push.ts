// Pushes built test images through the distribution HTTP API: each blob by POST + PUT
// (skipped when HEAD finds it), child manifests by digest, then the top manifest or index
// by tag.
import { readFile } from 'node:fs/promises';
import type { Blob, BuiltManifest } from './oci-image.ts';
import type { RegistryClient } from './oci-client.ts';
import type { HttpResponse } from './oci-http.ts';

/** An image ready to push: its manifests and, for a multi-platform image, the index on top. */
export interface BuiltImage {
  manifests: BuiltManifest[];
  index?: Blob;
}

/** Pushes `image` as `name:tag`; returns the top blob (index or single manifest) pushed. */
export async function pushImage(client: RegistryClient, name: string, tag: string, image: BuiltImage): Promise<Blob> {
  for (const m of image.manifests) {
    for (const blob of [...m.layers, m.config]) await pushBlob(client, name, blob);
  }
  if (!image.index) {
    await putManifest(client, name, tag, image.manifests[0].manifest);
    return image.manifests[0].manifest;
  }
  for (const m of image.manifests) await putManifest(client, name, m.manifest.digest, m.manifest);
  await putManifest(client, name, tag, image.index);
  return image.index;
}

async function pushBlob(client: RegistryClient, name: string, blob: Blob): Promise<void> {
  const head = await client.fetch(`/v2/${name}/blobs/${blob.digest}`, { method: 'HEAD' });
  await head.buffer();
  if (head.status === 200) return;
  const start = await client.fetch(`/v2/${name}/blobs/uploads/`, { method: 'POST' });
  await expectStatus(start, 202, `start upload of ${blob.digest}`);
  const location = new URL(start.headers.get('location') ?? '', client.url);
  location.searchParams.set('digest', blob.digest);
  const data = blob.data ?? (await readFile(blob.path!));
  const put = await client.fetch(location.toString(), {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream' },
    body: data,
  });
  await expectStatus(put, 201, `upload of ${blob.digest}`);
}

async function putManifest(client: RegistryClient, name: string, reference: string, blob: Blob): Promise<void> {
  const res = await client.fetch(`/v2/${name}/manifests/${reference}`, {
    method: 'PUT',
    headers: { 'content-type': blob.mediaType },
    body: blob.data!,
  });
  await expectStatus(res, 201, `manifest ${name}:${reference}`);
  const digest = res.headers.get('docker-content-digest');
  if (digest !== blob.digest) throw new Error(`registry stored ${name}:${reference} as ${digest}, expected ${blob.digest}`);
}

async function expectStatus(res: HttpResponse, status: number, what: string): Promise<void> {
  const text = await res.text();
  if (res.status !== status) throw new Error(`${what}: HTTP ${res.status} ${text}`);
}
