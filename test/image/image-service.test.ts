// ImageService against the real docker-registry (test/support), through a counting proxy.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { BurstletError } from '../../src/errors.ts';
import { ImageService, type ImageServiceOptions, type PullEvent } from '../../workers/image/image-service.ts';
import type { Mount } from '../../workers/image/snapshotter.ts';
import { LAYERS_EXPECTED_PATH, pushTestImages, type PushedImage, type TestImageName } from '../support/images.ts';
import { startRegistry, type Registry } from '../support/registry.ts';
import { startRegistryProxy, type RegistryProxy } from './support/registry-proxy.ts';

const isRoot = process.getuid?.() === 0;
let reg: Registry;
let proxy: RegistryProxy;
let pushed: Record<TestImageName, PushedImage>;
let workdir: string;

before(async () => {
  reg = await startRegistry();
  pushed = await pushTestImages(reg, ['busybox', 'busybox-docker', 'busybox-docker-list', 'layers']);
  proxy = await startRegistryProxy(reg.url);
  workdir = mkdtempSync(join(tmpdir(), 'burstlet-imgsvc-'));
});
after(async () => {
  await proxy?.stop();
  await reg?.stop();
  if (workdir) rmSync(workdir, { recursive: true, force: true });
});

let n = 0;
function service(opts: Partial<ImageServiceOptions> = {}): ImageService {
  return new ImageService({ root: join(workdir, `svc-${++n}`), registry: { allowLoopbackHttp: true }, ...opts });
}

/** The image ref through the proxy. */
const via = (name: TestImageName, suffix = ':latest') => `${proxy.host}/${name}${suffix}`;

function codeOf(err: unknown): string {
  assert.ok(err instanceof BurstletError, String(err));
  return err.code;
}

/** Reads a file of the rootfs the mounts describe, mounting them as the runtime would (root). */
function readRootfs(mounts: readonly Mount[], files: string[]): Record<string, string | null> {
  const target = join(workdir, `mnt-${++n}`);
  mkdirSync(target);
  const [m] = mounts;
  execFileSync('mount', m.type === 'bind' ? ['--bind', m.source, target] : ['-t', m.type, '-o', m.options.join(','), m.source, target]);
  try {
    return Object.fromEntries(files.map((f) => [f, existsSync(join(target, f)) ? readFileSync(join(target, f), 'utf8') : null]));
  } finally {
    execFileSync('umount', [target]);
  }
}

test('pull by tag resolves the index to this platform; status, list and config (real registry)', async () => {
  const svc = service({ platform: { os: 'linux', architecture: 'amd64' } });
  const events: PullEvent[] = [];
  const mark = proxy.log.length;
  const id = await svc.pullImage(via('busybox'), { onEvent: (e) => events.push(e) });
  const manifests = proxy.log.slice(mark).filter((l) => l.path.includes('/manifests/')).map((l) => l.path.split('/').pop());
  assert.deepEqual(manifests, ['latest', pushed.busybox.platforms!['linux/amd64']]);
  assert.match(id, /^sha256:[a-f0-9]{64}$/);
  const status = await svc.imageStatus(via('busybox'));
  assert.equal(status?.id, id);
  assert.deepEqual(status?.repoTags, [`${proxy.host}/busybox:latest`]);
  assert.deepEqual(status?.repoDigests, [`${proxy.host}/busybox@${pushed.busybox.digest}`]);
  assert.deepEqual(status?.config.cmd, ['sh']);
  assert.equal(events[0].type, 'Pulling');
  const pulled = events.at(-1)!;
  assert.equal(pulled.type, 'Pulled');
  assert.match(pulled.type === 'Pulled' ? pulled.message : '', /^Successfully pulled image ".*busybox:latest" in [\d.]+s\. Image size: \d+ bytes\.$/);
  assert.ok(events.some((e) => e.type === 'layer' && e.done === e.total));
  assert.deepEqual((await svc.listImages()).map((i) => i.id), [id]);
  assert.equal((await svc.imageStatus(via('busybox-docker'))), undefined);
});

test('pull by digest, Docker schema2 and Docker manifest lists (real registry)', async () => {
  const svc = service();
  const byDigest = await svc.pullImage(via('busybox', `@${pushed.busybox.digest}`));
  assert.equal((await svc.imageStatus(via('busybox', `@${pushed.busybox.digest}`)))?.id, byDigest);
  const docker = await svc.pullImage(via('busybox-docker'));
  const list = await svc.pullImage(via('busybox-docker-list'));
  for (const id of [docker, list]) assert.deepEqual((await svc.imageStatus(id))?.config.env.length, 1);
  // The same busybox layer under three images is one snapshot.
  assert.equal((await svc.snapshotter.list()).length, 1);
});

test('an index without this platform fails listing the platforms it has', async () => {
  const arm = service({ platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } });
  assert.equal((await arm.imageStatus(await arm.pullImage(via('busybox'))))?.config.architecture, 'arm64');
  const svc = service({ platform: { os: 'linux', architecture: 's390x' } });
  await assert.rejects(svc.pullImage(via('busybox')), (err: unknown) => {
    assert.equal(codeOf(err), 'IMAGE_PLATFORM_MISSING');
    assert.match((err as Error).message, /no variant for platform linux\/s390x; available platforms: linux\/amd64, linux\/arm64\/v8/);
    return true;
  });
});

test('ten concurrent pulls fetch each blob once; a second pull downloads no blob bytes (real registry)', async () => {
  const svc = service();
  const before = proxy.log.length;
  const ids = await Promise.all(Array.from({ length: 10 }, () => svc.pullImage(via('layers'))));
  assert.equal(new Set(ids).size, 1);
  const gets = proxy.log.slice(before).filter((l) => l.method === 'GET' && l.path.includes('/blobs/'));
  const perBlob = new Map<string, number>();
  for (const g of gets) perBlob.set(g.path, (perBlob.get(g.path) ?? 0) + 1);
  assert.ok(perBlob.size >= 4, 'config + 3 layers');
  for (const [path, count] of perBlob) assert.equal(count, 1, path);
  const mark = proxy.log.length;
  await svc.pullImage(via('layers'));
  const again = proxy.log.slice(mark).filter((l) => l.path.includes('/blobs/'));
  assert.deepEqual(again, []);
});

test('whiteout image: deleted files absent, opaque dir shows only the upper layer (root)', { skip: !isRoot && 'mounting needs root' }, async () => {
  for (const kind of ['overlay', 'copy'] as const) {
    const svc = service({ snapshotter: kind });
    await svc.pullImage(via('layers'));
    const mounts = await svc.prepareRootfs('ctr-whiteouts', via('layers'));
    const facts = readRootfs(mounts, [LAYERS_EXPECTED_PATH])[LAYERS_EXPECTED_PATH]!.trim().split('\n');
    const paths = facts.map((f) => f.split(' ')[1].slice(1));
    const seen = readRootfs(mounts, [...paths, 'bin/busybox']);
    assert.ok(seen['bin/busybox'] !== null, `${kind}: busybox present`);
    for (const fact of facts) {
      const [what, path, content] = fact.split(' ');
      if (what === 'absent') assert.equal(seen[path.slice(1)], null, `${kind}: ${fact}`);
      else assert.equal(seen[path.slice(1)]?.trim(), content, `${kind}: ${fact}`);
    }
    await svc.releaseRootfs('ctr-whiteouts');
  }
});

test('unknown tags are ErrImagePull with the registry message, then ImagePullBackOff', async () => {
  let now = 1_000_000;
  const svc = service({ now: () => now });
  await assert.rejects(svc.pullImage(via('busybox', ':nope')), (err: unknown) => {
    assert.equal(codeOf(err), 'IMAGE_NOT_FOUND');
    assert.equal((err as BurstletError).reason, 'ErrImagePull');
    assert.match((err as Error).message, /not found in registry .*MANIFEST_UNKNOWN/);
    return true;
  });
  await assert.rejects(svc.pullImage(via('busybox', ':nope')), (err: unknown) => codeOf(err) === 'IMAGE_PULL_BACKOFF');
  now += 10_001;
  await assert.rejects(svc.pullImage(via('busybox', ':nope')), (err: unknown) => codeOf(err) === 'IMAGE_NOT_FOUND');
  await assert.rejects(svc.pullImage('Bad Name'), (err: unknown) => (err as BurstletError).reason === 'InvalidImageName');
});

test('a manifest over the size limit is refused before it is parsed', async () => {
  const svc = service({ registry: { allowLoopbackHttp: true, maxManifestBytes: 200 } });
  await assert.rejects(svc.pullImage(via('busybox')), (err: unknown) => {
    assert.equal(codeOf(err), 'IMAGE_TOO_LARGE');
    assert.match((err as Error).message, /busybox:latest: manifest is larger than the 200-byte limit/);
    return true;
  });
  assert.deepEqual(await svc.store.list(), []);
});

test('removeImage collects blobs and snapshots no other image uses; imageFsInfo reports usage', async () => {
  const svc = service();
  const a = await svc.pullImage(via('layers'));
  await svc.pullImage(via('busybox-docker'));
  const full = await svc.imageFsInfo();
  assert.ok(full.usedBytes > 0 && full.inodesUsed > 0 && full.capacityBytes > 0);
  const blobsBefore = (await svc.store.list()).length;
  const snapsBefore = (await svc.snapshotter.list()).length;
  await svc.removeImage(a);
  assert.equal(await svc.imageStatus(via('layers')), undefined);
  // busybox's layer is shared and stays; the two upper layers and their blobs go.
  assert.equal((await svc.snapshotter.list()).length, snapsBefore - 2);
  assert.ok((await svc.store.list()).length < blobsBefore);
  assert.ok((await svc.imageFsInfo()).usedBytes < full.usedBytes);
  await svc.removeImage(a); // idempotent
});

test('mirrors serve before the registry; plain HTTP only where allowed', async () => {
  // The upstream name does not even resolve: everything must come from the mirror.
  const mirrored = service({ registry: { allowLoopbackHttp: true, mirrors: { 'upstream.invalid': [proxy.host] } } });
  const mark = proxy.log.length;
  assert.match(await mirrored.pullImage('upstream.invalid/busybox-docker:latest'), /^sha256:/);
  assert.ok(proxy.log.slice(mark).some((l) => l.path.includes('/busybox-docker/manifests/latest')));
  assert.deepEqual((await mirrored.imageStatus('upstream.invalid/busybox-docker:latest'))?.repoTags, ['upstream.invalid/busybox-docker:latest']);
  // Without the loopback allowance the client speaks TLS, which this registry does not.
  await assert.rejects(service({ registry: {} }).pullImage(via('busybox-docker')), (err: unknown) => codeOf(err) === 'IMAGE_PULL_FAILED');
  assert.match(await service({ registry: { insecure: [proxy.host] } }).pullImage(via('busybox-docker')), /^sha256:/);
});
