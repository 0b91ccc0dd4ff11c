import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BurstletError } from '../../src/errors.ts';
import { applyLayer, type ApplyOptions } from '../../workers/image/layer-applier.ts';
import { buildTar, chunked, type TarSpec } from './support/tar-writer.ts';

const isRoot = process.getuid?.() === 0;

/** A sandbox whose only child is `root`; anything else appearing in it was written outside. */
function sandbox(t: { after(fn: () => void): void }): { base: string; root: string; outside: () => string[] } {
  const base = mkdtempSync(join(tmpdir(), 'burstlet-apply-'));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const root = join(base, 'root');
  mkdirSync(root);
  return { base, root, outside: () => readdirSync(base).filter((n) => n !== 'root' && !n.startsWith('lower')) };
}

function apply(entries: TarSpec[], options: Partial<ApplyOptions> & { root: string }) {
  return applyLayer(chunked(buildTar(entries)), {
    lowers: [], whiteouts: 'delete', devices: 'skip', maxBytes: 1 << 30, image: 'test/img:1', layer: 'sha256:abc', ...options,
  });
}

async function refused(p: Promise<unknown>, entry: string, why: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof BurstletError);
    assert.equal(err.code, 'IMAGE_LAYER_HOSTILE', err.message);
    assert.match(err.message, /image test\/img:1 layer sha256:abc/);
    assert.ok(err.message.includes(`entry "${entry}"`), err.message);
    assert.match(err.message, why);
    assert.equal(err.details.entry, entry);
    return true;
  });
}

test('files, dirs, symlinks and hardlinks land with their metadata', async (t) => {
  const { root } = sandbox(t);
  const res = await apply([
    { path: './bin/', type: 'dir', mode: 0o711 },
    { path: './bin/tool', body: 'x'.repeat(70000), mode: 0o4755, uid: 12, gid: 34 },
    { path: './bin/alias', type: 'symlink', linkname: 'tool' },
    { path: './bin/abs', type: 'symlink', linkname: '/etc/passwd' },
    { path: './bin/hard', type: 'hardlink', linkname: 'bin/tool' },
    { path: './deep/a/b/c', body: 'implicit parents' },
  ], { root });
  assert.equal(res.entries, 6);
  assert.equal(statSync(join(root, 'bin')).mode & 0o7777, 0o711);
  assert.equal(readFileSync(join(root, 'bin/tool'), 'utf8').length, 70000);
  assert.equal(statSync(join(root, 'bin/tool')).mode & 0o7777, 0o4755);
  if (isRoot) assert.equal(statSync(join(root, 'bin/tool')).uid, 12);
  assert.equal(readlinkSync(join(root, 'bin/alias')), 'tool');
  assert.equal(readlinkSync(join(root, 'bin/abs')), '/etc/passwd');
  assert.equal(statSync(join(root, 'bin/hard')).ino, statSync(join(root, 'bin/tool')).ino);
  assert.equal(readFileSync(join(root, 'deep/a/b/c'), 'utf8'), 'implicit parents');
});

test('whiteouts delete files and opaque dirs keep only the new layer (copy mode)', async (t) => {
  const { root } = sandbox(t);
  await apply([
    { path: 'keep', body: '1' }, { path: 'gone', body: '1' }, { path: 'dir/', type: 'dir' },
    { path: 'dir/old', body: 'old' }, { path: 'dir/sub/x', body: 'old' },
  ], { root });
  await apply([
    { path: '.wh.gone' }, { path: 'dir/', type: 'dir' }, { path: 'dir/.wh..wh..opq' }, { path: 'dir/new', body: 'new' },
  ], { root });
  assert.ok(existsSync(join(root, 'keep')));
  assert.ok(!existsSync(join(root, 'gone')));
  assert.deepEqual(readdirSync(join(root, 'dir')), ['new']);
});

test('overlay mode writes whiteout devices and opaque xattrs (root)', { skip: !isRoot && 'needs root for mknod and trusted.* xattrs' }, async (t) => {
  const { root } = sandbox(t);
  await apply([{ path: '.wh.gone' }, { path: 'dir/.wh..wh..opq' }, { path: 'dir/new', body: 'n' }], { root, whiteouts: 'overlay' });
  const wh = lstatSync(join(root, 'gone'));
  assert.ok(wh.isCharacterDevice());
  assert.equal(wh.rdev, 0);
  assert.deepEqual(readdirSync(join(root, 'dir')), ['new']);
});

test('hostile entries are refused naming image, layer and entry; nothing lands outside', async (t) => {
  const cases: [TarSpec[], string, RegExp][] = [
    [[{ path: '../escape', body: 'x' }], '../escape', /"\.\."/],
    [[{ path: 'a/../../escape', body: 'x' }], 'a/../../escape', /"\.\."/],
    [[{ path: '/escape', body: 'x' }], '/escape', /absolute path/],
    [[{ path: 'up', type: 'symlink', linkname: '../../..' }], 'up', /points outside the root/],
    [[{ path: 'link', type: 'symlink', linkname: '/' }, { path: 'link/escape', body: 'x' }], 'link/escape', /through symlink "link"/],
    [[{ path: 'link', type: 'symlink', linkname: '..' }, { path: 'link/escape', body: 'x' }], 'link', /outside the root/],
    [[{ path: 'h', type: 'hardlink', linkname: '../escape' }], 'h', /outside the root/],
    [[{ path: 'h', type: 'hardlink', linkname: '/etc/passwd' }], 'h', /absolute/],
    [[{ path: 'h', type: 'hardlink', linkname: 'missing' }], 'h', /does not exist/],
    [[{ path: 'dev', type: 'block', devmajor: 8, devminor: 0 }], 'dev', /device node 8:0/],
  ];
  for (const [entries, entry, why] of cases) {
    const { root, outside } = sandbox(t);
    await refused(apply(entries, { root, devices: 'refuse' }), entry, why);
    assert.deepEqual(outside(), [], entry);
  }
});

test('a symlink planted by an earlier layer is not followed (copy and overlay modes)', async (t) => {
  const { base, root, outside } = sandbox(t);
  const lower = join(base, 'lower');
  mkdirSync(lower);
  await apply([{ path: 'evil', type: 'symlink', linkname: base }], { root: lower });
  await refused(apply([{ path: 'evil/escape', body: 'x' }], { root: lower }), 'evil/escape', /through symlink "evil"/);
  await refused(apply([{ path: 'evil/escape', body: 'x' }], { root, lowers: [lower] }), 'evil/escape', /planted by an earlier layer/);
  assert.deepEqual(outside(), []);
  assert.ok(!existsSync(join(base, 'escape')));
  // A directory entry over the lower symlink hides it, as overlayfs does: that is legal.
  await apply([{ path: 'evil/', type: 'dir' }, { path: 'evil/inside', body: 'x' }], { root, lowers: [lower] });
  assert.ok(existsSync(join(root, 'evil/inside')));
});

test('device nodes are skipped by default and reported', async (t) => {
  const { root } = sandbox(t);
  const res = await apply([{ path: 'dev/sda', type: 'block', devmajor: 8 }, { path: 'ok', body: '1' }], { root });
  assert.deepEqual(res.skipped, ['dev/sda']);
  assert.ok(!existsSync(join(root, 'dev/sda')));
  assert.ok(existsSync(join(root, 'ok')));
});

test('a layer that unpacks past its byte limit is refused as too large', async (t) => {
  const { root } = sandbox(t);
  await assert.rejects(apply([{ path: 'big', body: Buffer.alloc(200000) }], { root, maxBytes: 100000 }), (err: unknown) => {
    assert.ok(err instanceof BurstletError);
    assert.equal(err.code, 'IMAGE_TOO_LARGE');
    assert.match(err.message, /layer sha256:abc entry "big".*more than 100000 bytes/);
    return true;
  });
});

test('hardlinks to a file in a lower layer are copied up (overlay mode)', async (t) => {
  const { base, root } = sandbox(t);
  const lower = join(base, 'lower');
  mkdirSync(join(lower, 'bin'), { recursive: true });
  writeFileSync(join(lower, 'bin/tool'), 'tool');
  await apply([{ path: 'bin/again', type: 'hardlink', linkname: 'bin/tool' }], { root, lowers: [lower] });
  assert.equal(readFileSync(join(root, 'bin/again'), 'utf8'), 'tool');
  assert.equal(readFileSync(join(root, 'bin/tool'), 'utf8'), 'tool');
});
