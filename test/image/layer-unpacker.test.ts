import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import { BurstletError } from '../../src/errors.ts';
import { unpackLayer } from '../../workers/image/layer-unpacker.ts';
import { buildTar, chunked } from './support/tar-writer.ts';

const tar = buildTar([{ path: 'etc/', type: 'dir' }, { path: 'etc/motd', body: 'hello from a layer\n'.repeat(1000) }]);
const diffId = `sha256:${createHash('sha256').update(tar).digest('hex')}`;
const forms = { gzip: gzipSync(tar), zstd: zstdCompressSync(tar), none: tar };

function dirs(t: { after(fn: () => void): void }) {
  const base = mkdtempSync(join(tmpdir(), 'burstlet-unpack-'));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  return base;
}

const options = (root: string) => ({ root, lowers: [], whiteouts: 'delete' as const, devices: 'skip' as const, maxBytes: 1 << 24, image: 'img', layer: 'sha256:blob' });

test('gzip, zstd and uncompressed layers unpack from a file and from a live stream', async (t) => {
  const base = dirs(t);
  for (const [kind, bytes] of Object.entries(forms)) {
    const file = join(base, `${kind}.blob`);
    writeFileSync(file, bytes);
    for (const source of ['file', 'stream']) {
      const root = join(base, `${kind}-${source}`);
      mkdirSync(root);
      const res = await unpackLayer(source === 'file' ? file : chunked(bytes, 1000), diffId, options(root));
      assert.equal(res.entries, 2, `${kind} ${source}`);
      assert.equal(readFileSync(join(root, 'etc/motd'), 'utf8').length, 19000, `${kind} ${source}`);
    }
  }
});

test('a layer whose content does not match its diff_id is refused', async (t) => {
  const root = join(dirs(t), 'r');
  mkdirSync(root);
  await assert.rejects(unpackLayer(chunked(forms.gzip), `sha256:${'0'.repeat(64)}`, options(root)), (err: unknown) => {
    assert.ok(err instanceof BurstletError);
    assert.equal(err.code, 'IMAGE_DIGEST_MISMATCH');
    assert.match(err.message, /image img layer sha256:blob: uncompressed content hashes to sha256:[a-f0-9]{64}, config says sha256:0+/);
    return true;
  });
});

test('a corrupt compressed stream is a clear pull error', async (t) => {
  const root = join(dirs(t), 'r');
  mkdirSync(root);
  const broken = Buffer.from(forms.gzip);
  broken.fill(0x55, 20, 60);
  await assert.rejects(unpackLayer(chunked(broken), diffId, options(root)), (err: unknown) => {
    assert.ok(err instanceof BurstletError);
    assert.match(err.code, /IMAGE_PULL_FAILED|IMAGE_LAYER_HOSTILE/);
    assert.match(err.message, /image img layer sha256:blob/);
    return true;
  });
});
