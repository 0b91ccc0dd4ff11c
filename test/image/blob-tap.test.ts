import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChunkTap, TapAbandoned } from '../../workers/image/blob-tap.ts';

async function drain(tap: ChunkTap): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of tap) parts.push(c);
  return Buffer.concat(parts);
}

test('a reader gets every chunk in order while the writer runs ahead', async () => {
  const tap = new ChunkTap();
  const reading = drain(tap);
  const chunk = Buffer.alloc(1 << 20, 7);
  for (let i = 0; i < 20; i++) await tap.write(chunk);
  tap.end();
  const got = await reading;
  assert.equal(got.length, 20 << 20);
  assert.ok(got.every((b) => b === 7));
});

test('abandoning fails the reader with TapAbandoned; without a reader the tap gives up', async () => {
  const tap = new ChunkTap();
  const reading = drain(tap);
  await tap.write(Buffer.from('abc'));
  tap.abandon('transfer resumed');
  await assert.rejects(reading, (err: unknown) => err instanceof TapAbandoned && /transfer resumed/.test((err as Error).message));
  const lonely = new ChunkTap();
  for (let i = 0; i < 10; i++) await lonely.write(Buffer.alloc(1 << 20)); // never blocks
  assert.equal(lonely.abandoned, true);
  await assert.rejects(drain(lonely), TapAbandoned);
});

test('a tap that ended whole is not spoiled by a late abandon', async () => {
  const tap = new ChunkTap();
  await tap.write(Buffer.from('whole'));
  tap.end();
  tap.abandon('download finished');
  assert.equal((await drain(tap)).toString(), 'whole');
});
