// Blob transfers through a fault-injecting proxy in front of the real registry: a byte
// flipped in transit is refused, a cut download resumes with Range from where it stopped.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { BurstletError } from '../../src/errors.ts';
import { ImageService } from '../../workers/image/image-service.ts';
import { MEDIA } from '../../workers/image/manifest.ts';
import { pushTestImages } from '../support/images.ts';
import { startRegistry, type Registry } from '../support/registry.ts';
import { startRegistryProxy, type RegistryProxy } from './support/registry-proxy.ts';

let reg: Registry;
let proxy: RegistryProxy;
let workdir: string;
let layer: { digest: string; size: number };

before(async () => {
  reg = await startRegistry();
  await pushTestImages(reg, ['busybox-docker']);
  proxy = await startRegistryProxy(reg.url);
  workdir = mkdtempSync(join(tmpdir(), 'burstlet-transfer-'));
  const res = await fetch(`${reg.url}/v2/busybox-docker/manifests/latest`, { headers: { accept: MEDIA.dockerManifest } });
  layer = ((await res.json()) as { layers: { digest: string; size: number }[] }).layers[0];
});
after(async () => {
  await proxy?.stop();
  await reg?.stop();
  if (workdir) rmSync(workdir, { recursive: true, force: true });
});

let n = 0;
const service = () => new ImageService({ root: join(workdir, `svc-${++n}`), registry: { allowLoopbackHttp: true } });

test('a blob corrupted in transit is refused and nothing enters the store (real registry)', async () => {
  const svc = service();
  proxy.corruptNext(`/blobs/${layer.digest}`, Math.floor(layer.size / 2));
  await assert.rejects(svc.pullImage(`${proxy.host}/busybox-docker:latest`), (err: unknown) => {
    assert.ok(err instanceof BurstletError);
    assert.equal(err.code, 'IMAGE_DIGEST_MISMATCH');
    assert.equal(err.reason, 'ErrImagePull');
    assert.ok(err.message.includes(layer.digest), err.message);
    return true;
  });
  assert.ok(!(await svc.store.list()).includes(layer.digest));
  assert.deepEqual(await svc.snapshotter.list(), []);
  assert.deepEqual(await svc.listImages(), []);
});

test('a byte corrupted in the gzip header (decompression fails first) is still reported as the transfer digest mismatch', async () => {
  const svc = service();
  proxy.corruptNext(`/blobs/${layer.digest}`, 1);
  await assert.rejects(svc.pullImage(`${proxy.host}/busybox-docker:latest`), (err: unknown) => {
    assert.ok(err instanceof BurstletError);
    assert.equal(err.code, 'IMAGE_DIGEST_MISMATCH', err.message);
    assert.ok(err.message.includes(layer.digest), err.message);
    return true;
  });
  assert.ok(!(await svc.store.list()).includes(layer.digest));
  assert.deepEqual(await svc.snapshotter.list(), []);
});

test('a download cut in the middle resumes from where it stopped (real registry)', async () => {
  const svc = service();
  const cut = Math.floor(layer.size / 3);
  proxy.cutNext(`/blobs/${layer.digest}`, cut);
  const mark = proxy.log.length;
  await svc.pullImage(`${proxy.host}/busybox-docker:latest`);
  const gets = proxy.log.slice(mark).filter((l) => l.method === 'GET' && l.path.endsWith(layer.digest));
  assert.equal(gets.length, 2);
  assert.equal(gets[0].bytes, cut);
  // Bytes in flight when the socket died may never reach the client: it resumes from what
  // it actually received and verified onto disk.
  const resumedAt = Number(/^bytes=(\d+)-$/.exec(gets[1].range ?? '')?.[1]);
  assert.ok(resumedAt > 0 && resumedAt <= cut, `resumed at ${resumedAt}`);
  assert.equal(gets[1].status, 206);
  assert.equal(gets[1].bytes, layer.size - resumedAt, 'only the missing bytes are fetched again');
  assert.ok((await svc.store.list()).includes(layer.digest));
});
