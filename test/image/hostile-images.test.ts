// Every hostile test image is refused with its own clear error, and nothing is written
// outside the store: checked by scanning every directory an escape could reach.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { BurstletError } from '../../src/errors.ts';
import { ImageService, type ImageServiceOptions, type PullEvent } from '../../workers/image/image-service.ts';
import { pushTestImages, type PushedImage, type TestImageName } from '../support/images.ts';
import { startRegistry, type Registry } from '../support/registry.ts';

let reg: Registry;
let pushed: Record<TestImageName, PushedImage>;
let workdir: string;

const HOSTILE = ['hostile/dotdot', 'hostile/absolute', 'hostile/symlink-escape', 'hostile/hardlink-escape', 'hostile/device', 'hostile/gzip-bomb'] as const;
// Names the hostile layers try to create outside the rootfs.
const ESCAPES = ['escape', 'abs-escape', 'escaped-through-symlink', 'outside', 'hardlink'];

before(async () => {
  reg = await startRegistry();
  pushed = await pushTestImages(reg, [...HOSTILE]);
  workdir = mkdtempSync(join(tmpdir(), 'burstlet-hostile-'));
});
after(async () => {
  await reg?.stop();
  if (workdir) rmSync(workdir, { recursive: true, force: true });
});

/** Every file name under `dir` (recursive, no symlink following). */
function walk(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    out.push(join(dir, e.name));
    if (e.isDirectory()) walk(join(dir, e.name), out);
  }
  return out;
}

/** Escape names in `/`, in every ancestor of the store and anywhere inside the store. */
function escapes(root: string): string[] {
  const found: string[] = [];
  for (let d = root; ; d = dirname(d)) {
    for (const name of ESCAPES) if (existsSync(join(d, name))) found.push(join(d, name));
    if (d === '/') break;
  }
  found.push(...walk(root).filter((p) => ESCAPES.some((n) => p.endsWith(`/${n}`))));
  return found;
}

let n = 0;
async function attempt(name: TestImageName, opts: Partial<ImageServiceOptions> = {}) {
  const root = join(workdir, `svc-${++n}`);
  const svc = new ImageService({ root, registry: { allowLoopbackHttp: true }, maxLayerBytes: 256 << 20, ...opts });
  const warnings: string[] = [];
  const onEvent = (e: PullEvent) => { if (e.type === 'warning') warnings.push(e.message); };
  const result = await svc.pullImage(pushed[name].ref, { onEvent }).then((id) => ({ id }), (err: unknown) => ({ err }));
  assert.deepEqual(escapes(root), [], `${name}: nothing outside the snapshot`);
  assert.deepEqual(await svc.snapshotter.list(), 'err' in result ? [] : await svc.snapshotter.list());
  return { svc, result, warnings };
}

function refusal(result: { err: unknown } | { id: string }, name: string, code: string, entry: string | RegExp, why: RegExp): void {
  const err = 'err' in result ? result.err : undefined;
  assert.ok(err instanceof BurstletError, `${name} must be refused`);
  assert.equal(err.code, code, err.message);
  assert.equal(err.reason, 'ErrImagePull');
  assert.ok(err.message.includes(`image ${pushed[name as TestImageName].ref}`), err.message);
  assert.match(err.message, /layer sha256:[a-f0-9]{64}/);
  if (typeof entry === 'string') assert.ok(err.message.includes(`entry "${entry}"`), err.message);
  assert.match(err.message, why);
}

test('path traversal, absolute paths, symlink and hardlink escapes are refused (real registry)', async () => {
  const cases: [TestImageName, string, RegExp][] = [
    ['hostile/dotdot', '../escape', /path contains "\.\."/],
    ['hostile/absolute', '/abs-escape', /absolute path/],
    ['hostile/symlink-escape', 'link/escaped-through-symlink', /goes through symlink "link"/],
    ['hostile/hardlink-escape', 'hardlink', /hardlink to "\.\.\/\.\.\/outside" points outside the root/],
  ];
  for (const [name, entry, why] of cases) {
    const { result } = await attempt(name);
    refusal(result, name, 'IMAGE_LAYER_HOSTILE', entry, why);
  }
});

test('device nodes are skipped by default (with a warning) and refused on request (real registry)', async () => {
  const { svc, result, warnings } = await attempt('hostile/device');
  assert.ok('id' in result);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /layer sha256:[a-f0-9]{64}: device node "dev\/evil-mem" skipped/);
  const status = await svc.imageStatus(pushed['hostile/device'].ref);
  const fs = (svc.snapshotter as unknown as { fsOf(c: string): string }).fsOf(status!.snapshot);
  assert.deepEqual(readdirSync(join(fs, 'dev')), []);
  const refused = await attempt('hostile/device', { devices: 'refuse' });
  refusal(refused.result, 'hostile/device', 'IMAGE_LAYER_HOSTILE', 'dev/evil-mem', /device node 1:1/);
});

test('a gzip bomb stops at the layer limit, naming the entry (real registry)', async () => {
  const { result } = await attempt('hostile/gzip-bomb', { maxLayerBytes: 64 << 20 });
  refusal(result, 'hostile/gzip-bomb', 'IMAGE_TOO_LARGE', 'zeros', /more than 67108864 bytes/);
  const perImage = await attempt('hostile/gzip-bomb', { maxImageBytes: 32 << 20 });
  refusal(perImage.result, 'hostile/gzip-bomb', 'IMAGE_TOO_LARGE', 'zeros', /image unpacks to more than its 33554432-byte limit/);
});
