// The test images, pushed to a real docker-registry and fetched back: each one is what it
// claims (entries listed from the layer tars as the registry serves them).
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { createGunzip } from 'node:zlib';
import { BIG_FILE_SIZE, BIG_FILES_PER_LAYER, BIG_LAYERS } from './oci-big.ts';
import { BUSYBOX_APPLETS, BUSYBOX_PATH } from './oci-busybox.ts';
import { registryClient, type RegistryClient } from './oci-client.ts';
import { fetchBlob, fetchManifest, fetchManifestRaw, uncompressLayer, verifyBlob, type Descriptor } from './oci-fetch.ts';
import { BOMB_FILE_NAME, BOMB_FILE_SIZE } from './oci-hostile.ts';
import { MEDIA } from './oci-image.ts';
import { listTar, parseTarHeader, type TarListing } from './oci-tar-reader.ts';
import { LAYERS_EXPECTED_PATH, pushTestImages, TEST_IMAGE_NAMES, type PushedImage, type TestImageName } from './images.ts';
import { startRegistry, type Registry } from './registry.ts';

let reg: Registry;
let client: RegistryClient;
let pushed: Record<TestImageName, PushedImage>;

before(async () => {
  reg = await startRegistry();
  client = registryClient(reg);
  pushed = await pushTestImages(reg);
});
after(() => reg?.stop());

/** The entries of a single-layer image's only layer. */
async function onlyLayerEntries(name: TestImageName): Promise<TarListing[]> {
  const image = await fetchManifest(client, name, 'latest', pushed[name].digest);
  assert.equal(image.layers.length, 1);
  return listTar(uncompressLayer(image.layers[0], image.config.rootfs.diff_ids[0]));
}

const summary = (entries: TarListing[]) => entries.map((e) => `${e.type} ${e.name}${e.linkname ? ` -> ${e.linkname}` : ''}`);

test('images (real docker-registry): every image but big is pushed by default under name:latest', () => {
  assert.deepEqual(Object.keys(pushed).sort(), TEST_IMAGE_NAMES.filter((n) => n !== 'big').sort());
  for (const [name, image] of Object.entries(pushed)) assert.equal(image.ref, `${reg.host}/${name}:latest`);
});

test('images (real docker-registry): busybox is an OCI index of linux/amd64 and linux/arm64 busybox rootfs', async () => {
  const index = await fetchManifestRaw(client, 'busybox', 'latest', pushed.busybox.digest);
  assert.equal(index.mediaType, MEDIA.ociIndex);
  const { manifests } = JSON.parse(index.body.toString()) as { manifests: Descriptor[] };
  assert.deepEqual(manifests.map((m) => m.platform), [
    { os: 'linux', architecture: 'amd64' }, { os: 'linux', architecture: 'arm64', variant: 'v8' },
  ]);
  assert.deepEqual(pushed.busybox.platforms, { 'linux/amd64': manifests[0].digest, 'linux/arm64/v8': manifests[1].digest });
  const amd64 = await fetchManifest(client, 'busybox', manifests[0].digest, manifests[0].digest);
  const arm64 = await fetchManifest(client, 'busybox', manifests[1].digest, manifests[1].digest);
  assert.equal(amd64.config.architecture, 'amd64');
  assert.equal(arm64.config.architecture, 'arm64');
  assert.deepEqual(amd64.config.config.Cmd, ['sh']);
  assert.ok((amd64.config.config.Env as string[]).some((e) => e.startsWith('PATH=') && e.includes('/bin')));
  const entries = listTar(uncompressLayer(amd64.layers[0], amd64.config.rootfs.diff_ids[0]));
  const byName = new Map(entries.map((e) => [e.name, e]));
  const busybox = byName.get('bin/busybox')!;
  assert.equal(busybox.size, statSync(BUSYBOX_PATH).size);
  assert.equal(busybox.mode, 0o755);
  for (const applet of ['sh', 'ls', 'cat', 'echo', 'id', 'hostname', 'sleep', 'true', 'false', 'env', 'wget', 'httpd', 'nc']) {
    assert.ok(BUSYBOX_APPLETS.includes(applet));
    assert.equal(byName.get(`bin/${applet}`)?.linkname, 'busybox', applet);
  }
  assert.equal(byName.get('tmp/')?.mode, 0o1777);
  assert.match(byName.get('etc/passwd')!.data.toString(), /^nobody:x:65534:65534:/m);
  assert.match(byName.get('etc/group')!.data.toString(), /^nobody:x:65534:/m);
});

test('images (real docker-registry): busybox-docker uses Docker schema2 media types over the same layer', async () => {
  const image = await fetchManifest(client, 'busybox-docker', 'latest', pushed['busybox-docker'].digest);
  assert.equal(image.mediaType, MEDIA.dockerManifest);
  assert.equal(image.manifest.mediaType, MEDIA.dockerManifest);
  assert.equal(image.manifest.config.mediaType, MEDIA.dockerConfig);
  assert.deepEqual(image.manifest.layers.map((l) => l.mediaType), [MEDIA.dockerLayerGzip]);
  assert.equal(image.manifest.layers[0].digest, (await fetchManifest(client, 'busybox', pushed.busybox.platforms!['linux/amd64'])).manifest.layers[0].digest);
});

test('images (real docker-registry): busybox-docker-list is a Docker manifest list of schema2 manifests', async () => {
  const list = await fetchManifestRaw(client, 'busybox-docker-list', 'latest', pushed['busybox-docker-list'].digest);
  assert.equal(list.mediaType, MEDIA.dockerList);
  const { manifests } = JSON.parse(list.body.toString()) as { manifests: Descriptor[] };
  assert.deepEqual(manifests.map((m) => [m.mediaType, m.platform?.architecture]), [[MEDIA.dockerManifest, 'amd64'], [MEDIA.dockerManifest, 'arm64']]);
  for (const m of manifests) {
    const image = await fetchManifest(client, 'busybox-docker-list', m.digest, m.digest);
    assert.equal(image.config.architecture, m.platform?.architecture);
    assert.equal(image.manifest.layers[0].mediaType, MEDIA.dockerLayerGzip);
  }
});

test('images (real docker-registry): layers has 3 layers whose whiteouts give the stated result', async () => {
  const image = await fetchManifest(client, 'layers', 'latest', pushed.layers.digest);
  assert.equal(image.layers.length, 3);
  const tars = image.layers.map((l, i) => listTar(uncompressLayer(l, image.config.rootfs.diff_ids[i])));
  const upper = summary(tars[2]);
  for (const marker of ['file data/.wh.delete-me.txt', 'file data/.wh.gone-dir', 'file opaque/.wh..wh..opq']) {
    assert.ok(upper.includes(marker), marker);
  }
  const tree = applyInMemory(tars);
  const expected = tree.get(`/${LAYERS_EXPECTED_PATH}`)!.data.toString().trim().split('\n');
  assert.ok(expected.length >= 7);
  for (const line of expected) {
    const [kind, path, content] = line.split(' ');
    if (kind === 'present') assert.equal(tree.get(path)?.data.toString(), `${content}\n`, line);
    else assert.equal([...tree.keys()].some((p) => p === path || p.startsWith(`${path}/`)), false, line);
  }
  // The lower content really was there before the upper layer removed it.
  assert.ok(summary(tars[1]).includes('file opaque/sub/old-2.txt'));
});

test('images (real docker-registry): each hostile image holds exactly its hostile entry', async () => {
  assert.deepEqual(summary(await onlyLayerEntries('hostile/dotdot')), ['file safe.txt', 'file ../escape']);
  assert.deepEqual(summary(await onlyLayerEntries('hostile/absolute')), ['file safe.txt', 'file /abs-escape']);
  assert.deepEqual(summary(await onlyLayerEntries('hostile/symlink-escape')), ['symlink link -> /', 'file link/escaped-through-symlink']);
  assert.deepEqual(summary(await onlyLayerEntries('hostile/hardlink-escape')), ['file safe.txt', 'hardlink hardlink -> ../../outside']);
  const device = await onlyLayerEntries('hostile/device');
  assert.deepEqual(summary(device), ['dir dev/', 'char dev/evil-mem']);
  assert.deepEqual([device[1].devmajor, device[1].devminor, device[1].mode], [1, 1, 0o666]);
});

test('images (real docker-registry): hostile/gzip-bomb is ~1 MB compressed and inflates past 1 GiB of zeros', async () => {
  const raw = await fetchManifestRaw(client, 'hostile/gzip-bomb', 'latest', pushed['hostile/gzip-bomb'].digest);
  const layer = (JSON.parse(raw.body.toString()) as { layers: Descriptor[] }).layers[0];
  assert.ok(layer.size < 4 * 1024 * 1024, `compressed size ${layer.size}`);
  await fetchBlob(client, 'hostile/gzip-bomb', layer); // the declared size is the real one
  const res = await client.fetch(`/v2/hostile/gzip-bomb/blobs/${layer.digest}`);
  const gunzip = res.body.pipe(createGunzip());
  const limit = 64 * 1024 * 1024;
  let inflated = Buffer.alloc(0);
  let total = 0;
  let nonZero = 0;
  for await (const chunk of gunzip as AsyncIterable<Buffer>) {
    if (inflated.length < 512) inflated = Buffer.concat([inflated, chunk]);
    for (let i = total < 512 ? 512 - total : 0; i < chunk.length; i++) nonZero |= chunk[i];
    total += chunk.length;
    if (total >= limit) break; // leaving the loop destroys the stream: never inflate it all
  }
  res.body.destroy();
  assert.ok(total >= limit, `stream ended after only ${total} bytes`);
  const header = parseTarHeader(inflated.subarray(0, 512));
  assert.equal(header.name, BOMB_FILE_NAME);
  assert.equal(header.size, BOMB_FILE_SIZE);
  assert.ok(header.size > 1024 ** 3);
  assert.equal(nonZero, 0, 'the bomb inflates to zeros');
  assert.ok(total / layer.size > 50, `ratio after ${total} bytes`);
});

test('images (real docker-registry): big is ~200 MB (compressed) of verified layers, pushed only when asked', async () => {
  assert.equal('big' in pushed, false);
  const big = await pushTestImages(reg, ['big']);
  const raw0 = await fetchManifestRaw(client, 'big', 'latest', big.big.digest);
  const manifest = JSON.parse(raw0.body.toString()) as { config: Descriptor; layers: Descriptor[] };
  assert.equal(manifest.layers.length, 1 + BIG_LAYERS);
  // Streamed through sha256, not kept: holding ~200 MB of chunks is what makes this slow.
  for (const blob of [manifest.config, ...manifest.layers]) await verifyBlob(client, 'big', blob);
  const total = manifest.layers.reduce((sum, l) => sum + l.size, 0);
  // 7-bit random bytes gzip to about 7/8 of BIG_LAYERS * BIG_FILES_PER_LAYER * BIG_FILE_SIZE.
  const raw = BIG_LAYERS * BIG_FILES_PER_LAYER * BIG_FILE_SIZE;
  assert.ok(total > raw * 0.8 && total < raw, `compressed total ${total} of ${raw}`);
  assert.ok(total > 190 * 1024 * 1024, `compressed total ${total}`);
  // Distinct content per layer (no accidental dedupe in a pull benchmark).
  assert.equal(new Set(manifest.layers.map((l) => l.digest)).size, manifest.layers.length);
});

// A minimal overlay of layer listings: whiteouts delete, opaque markers hide lower content.
function applyInMemory(layers: TarListing[][]): Map<string, TarListing> {
  const tree = new Map<string, TarListing>();
  for (const entries of layers) {
    const lower = new Set(tree.keys());
    for (const entry of entries) {
      const path = `/${entry.name}`.replace(/\/$/, '');
      const dir = path.slice(0, path.lastIndexOf('/'));
      const base = path.slice(path.lastIndexOf('/') + 1);
      const removeUnder = (root: string, self: boolean) => {
        for (const p of lower) if ((self && p === root) || p.startsWith(`${root}/`)) tree.delete(p);
      };
      if (base === '.wh..wh..opq') removeUnder(dir, false);
      else if (base.startsWith('.wh.')) removeUnder(`${dir}/${base.slice(4)}`, true);
      else tree.set(path, entry);
    }
  }
  return tree;
}
