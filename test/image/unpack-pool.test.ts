// The unpack pool in both shapes (worker threads, and in this thread for small hosts):
// the same layer from a stored blob and from a live tap unpacks to the same files.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { BurstletError } from '../../src/errors.ts';
import { ChunkTap } from '../../workers/image/blob-tap.ts';
import { defaultUnpackThreads, UnpackPool } from '../../workers/image/unpack-pool.ts';
import { buildTar } from './support/tar-writer.ts';

const tar = buildTar([{ path: 'etc/', type: 'dir' }, { path: 'etc/motd', body: 'hello from a layer\n'.repeat(50_000) }]);
const diffId = `sha256:${createHash('sha256').update(tar).digest('hex')}`;
const gz = gzipSync(tar);
const options = (root: string) => ({ root, lowers: [], whiteouts: 'delete' as const, devices: 'skip' as const, maxBytes: 1 << 26, image: 'img', layer: 'sha256:blob' });

test('two cores or fewer unpack in this thread, more use up to four workers', () => {
  assert.deepEqual([1, 2, 3, 8, 64].map((n) => defaultUnpackThreads(n)), [0, 0, 3, 4, 4]);
});

for (const threads of [0, 1]) {
  test(`unpack pool with ${threads} worker thread(s): stored blob and live tap give the same files`, async (t) => {
    const base = mkdtempSync(join(tmpdir(), 'burstlet-pool-'));
    const pool = new UnpackPool(threads);
    t.after(async () => {
      await pool.close();
      rmSync(base, { recursive: true, force: true });
    });
    const blob = join(base, 'layer.blob');
    writeFileSync(blob, gz);
    const fromFile = join(base, 'file');
    mkdirSync(fromFile);
    assert.equal((await pool.unpack(blob, diffId, options(fromFile))).entries, 2);

    const fromTap = join(base, 'tap');
    mkdirSync(fromTap);
    const tap = new ChunkTap();
    const done = pool.unpack(tap, diffId, options(fromTap));
    for (let off = 0; off < gz.length; off += 7000) await tap.write(gz.subarray(off, off + 7000));
    tap.end();
    assert.equal((await done).entries, 2);
    assert.equal(readFileSync(join(fromTap, 'etc/motd'), 'utf8'), readFileSync(join(fromFile, 'etc/motd'), 'utf8'));

    const wrong = join(base, 'wrong');
    mkdirSync(wrong);
    await assert.rejects(pool.unpack(blob, `sha256:${'0'.repeat(64)}`, options(wrong)), (err: unknown) => err instanceof BurstletError && err.code === 'IMAGE_DIGEST_MISMATCH');
  });
}
