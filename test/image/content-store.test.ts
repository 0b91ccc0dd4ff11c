import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BurstletError } from '../../src/errors.ts';
import { ContentStore, TransferInterrupted, type BlobSource } from '../../workers/image/content-store.ts';

function store(t: { after(fn: () => void): void }): ContentStore {
  const dir = mkdtempSync(join(tmpdir(), 'burstlet-cs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return new ContentStore(dir);
}

function blob(n: number, seed = 1): { bytes: Buffer; digest: string } {
  const bytes = Buffer.alloc(n);
  for (let i = 0; i < n; i++) bytes[i] = (i * 31 + seed) & 0xff;
  return { bytes, digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}` };
}

/** A source that serves `bytes` in 1 KiB chunks, optionally cutting the first transfer. */
function source(bytes: Buffer, opts: { cutAt?: number; honourRange?: boolean } = {}) {
  const stats = { opens: [] as number[], served: 0 };
  let cut = opts.cutAt;
  const src: BlobSource = {
    async open(offset) {
      stats.opens.push(offset);
      const from = opts.honourRange === false ? 0 : offset;
      const stopAt = cut;
      cut = undefined;
      async function* body() {
        for (let off = from; off < bytes.length; off += 1024) {
          const end = Math.min(off + 1024, bytes.length, stopAt ?? Infinity);
          if (end <= off) throw new TransferInterrupted('connection reset');
          stats.served += end - off;
          yield bytes.subarray(off, end);
        }
      }
      return { offset: from, body: body() };
    },
  };
  return { src, stats };
}

test('a blob enters the store only verified, atomically, under its digest', async (t) => {
  const cs = store(t);
  const { bytes, digest } = blob(100000);
  const seen: number[] = [];
  const path = await cs.ingest({ digest, size: bytes.length }, source(bytes).src, (done) => seen.push(done));
  assert.deepEqual(readFileSync(path), bytes);
  assert.equal(seen.at(-1), bytes.length);
  assert.deepEqual(await cs.list(), [digest]);
  assert.deepEqual(readdirSync(join(cs.root, 'ingest')), []);
});

test('a wrong digest or size stores nothing', async (t) => {
  const cs = store(t);
  const { bytes, digest } = blob(5000);
  const flipped = Buffer.from(bytes);
  flipped[4000] ^= 1;
  for (const [desc, data] of [[{ digest, size: 5000 }, flipped], [{ digest, size: 4000 }, bytes]] as const) {
    await assert.rejects(cs.ingest(desc, source(data).src), (err: unknown) => {
      assert.ok(err instanceof BurstletError);
      assert.equal(err.code, 'IMAGE_DIGEST_MISMATCH');
      assert.match(err.message, new RegExp(digest));
      return true;
    });
    assert.deepEqual(await cs.list(), []);
    assert.deepEqual(readdirSync(join(cs.root, 'ingest')), []);
  }
});

test('an interrupted transfer resumes from where it stopped', async (t) => {
  const cs = store(t);
  const { bytes, digest } = blob(50000);
  const { src, stats } = source(bytes, { cutAt: 20480 });
  await cs.ingest({ digest, size: bytes.length }, src);
  assert.deepEqual(stats.opens, [0, 20480]);
  assert.equal(stats.served, bytes.length);
  assert.deepEqual(readFileSync(cs.path(digest)), bytes);
});

test('a source that ignores the range restarts cleanly', async (t) => {
  const cs = store(t);
  const { bytes, digest } = blob(50000);
  const { src, stats } = source(bytes, { cutAt: 10240, honourRange: false });
  await cs.ingest({ digest, size: bytes.length }, src);
  assert.deepEqual(stats.opens, [0, 10240]);
  assert.deepEqual(readFileSync(cs.path(digest)), bytes);
});

test('concurrent ingests of one digest share a single download', async (t) => {
  const cs = store(t);
  const { bytes, digest } = blob(300000);
  const { src, stats } = source(bytes);
  const paths = await Promise.all(Array.from({ length: 10 }, () => cs.ingest({ digest, size: bytes.length }, src)));
  assert.equal(new Set(paths).size, 1);
  assert.deepEqual(stats.opens, [0]);
  await cs.ingest({ digest, size: bytes.length }, src);
  assert.deepEqual(stats.opens, [0], 'a present blob is not fetched again');
});

test('gc deletes blobs nobody keeps and reports bytes freed', async (t) => {
  const cs = store(t);
  const a = blob(1000, 1);
  const b = blob(2000, 2);
  await cs.ingest({ digest: a.digest, size: 1000 }, source(a.bytes).src);
  await cs.ingest({ digest: b.digest, size: 2000 }, source(b.bytes).src);
  assert.equal(await cs.gc(new Set([a.digest])), 2000);
  assert.deepEqual(await cs.list(), [a.digest]);
  assert.ok(!existsSync(cs.path(b.digest)));
});
