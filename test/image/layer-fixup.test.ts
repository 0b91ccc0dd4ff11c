// Layers applied before their parents (parallel overlay unpack) are finished correctly.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BurstletError } from '../../src/errors.ts';
import { applyLayer } from '../../workers/image/layer-applier.ts';
import { applyDeferred } from '../../workers/image/layer-fixup.ts';
import { buildTar, chunked, type TarSpec } from './support/tar-writer.ts';

function setup(t: { after(fn: () => void): void }) {
  const base = mkdtempSync(join(tmpdir(), 'burstlet-fixup-'));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const lower = join(base, 'lower');
  const root = join(base, 'root');
  mkdirSync(join(lower, 'tmp'), { recursive: true });
  mkdirSync(root);
  return { base, lower, root };
}

async function deferredApply(root: string, lower: string, entries: TarSpec[]): Promise<void> {
  const res = await applyLayer(chunked(buildTar(entries)), {
    root, lowers: [], deferLowers: true, whiteouts: 'overlay', devices: 'skip', maxBytes: 1 << 20, image: 'img', layer: 'sha256:l2',
  });
  applyDeferred(root, [lower], res.deferred, { image: 'img', layer: 'sha256:l2' });
}

test('implicit directories take the merged lower directory mode', async (t) => {
  const { lower, root } = setup(t);
  const { chmodSync } = await import('node:fs');
  chmodSync(join(lower, 'tmp'), 0o1777);
  await deferredApply(root, lower, [{ path: 'tmp/x', body: 'x' }, { path: 'new/y', body: 'y' }]);
  assert.equal(statSync(join(root, 'tmp')).mode & 0o7777, 0o1777);
  assert.equal(statSync(join(root, 'new')).mode & 0o7777, 0o755);
});

test('an implicit directory over a lower symlink is refused; an explicit one hides it', async (t) => {
  const { base, lower, root } = setup(t);
  symlinkSync(base, join(lower, 'evil'));
  await assert.rejects(deferredApply(root, lower, [{ path: 'evil/x', body: 'x' }]), (err: unknown) => {
    assert.ok(err instanceof BurstletError);
    assert.equal(err.code, 'IMAGE_LAYER_HOSTILE');
    assert.match(err.message, /image img layer sha256:l2 entry "evil\/x": refused: path goes through symlink "evil" planted by an earlier layer/);
    return true;
  });
  const other = join(base, 'root2');
  mkdirSync(other);
  await deferredApply(other, lower, [{ path: 'evil/', type: 'dir' }, { path: 'evil/sub/x', body: 'x' }]);
  assert.equal(readFileSync(join(other, 'evil/sub/x'), 'utf8'), 'x');
});

test('hardlinks to lower files become copies; to nothing, a refusal', async (t) => {
  const { lower, root } = setup(t);
  writeFileSync(join(lower, 'tmp/tool'), 'tool', { mode: 0o750 });
  await deferredApply(root, lower, [{ path: 'again', type: 'hardlink', linkname: 'tmp/tool' }]);
  assert.equal(readFileSync(join(root, 'again'), 'utf8'), 'tool');
  assert.equal(statSync(join(root, 'again')).mode & 0o777, 0o750);
  await assert.rejects(deferredApply(root, lower, [{ path: 'dangling', type: 'hardlink', linkname: 'tmp/none' }]), /hardlink source "tmp\/none" does not exist/);
});
