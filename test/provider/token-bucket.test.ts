import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TokenBucket } from '../../provider/token-bucket.ts';

test('token bucket: burst goes at once, then waiters are served as tokens refill, in order', async () => {
  let now = 0;
  const bucket = new TokenBucket(10, 3, () => now);
  for (let i = 0; i < 3; i++) await bucket.take();
  assert.ok(bucket.available() < 1, 'burst used up');
  const order: number[] = [];
  const waiting = [1, 2].map((i) => bucket.take().then(() => order.push(i)));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(order, [], 'no token yet: waiters wait');
  now = 250; // 2.5 tokens refilled at 10/s
  await Promise.all(waiting);
  assert.deepEqual(order, [1, 2]);
  now = 10_000;
  assert.equal(bucket.available(), 3, 'refill is capped at burst');
});

test('token bucket: rejects nonsense settings', () => {
  assert.throws(() => new TokenBucket(0, 1));
  assert.throws(() => new TokenBucket(1, 0));
});
