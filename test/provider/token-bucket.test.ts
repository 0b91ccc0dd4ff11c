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

test('token bucket: higher-priority waiters get the next tokens before earlier lower ones', async () => {
  let now = 0;
  const bucket = new TokenBucket(10, 5, () => now);
  for (let i = 0; i < 5; i++) await bucket.take();
  const order: string[] = [];
  const waiting = [
    bucket.take().then(() => order.push('normal-1')),
    bucket.take().then(() => order.push('normal-2')),
    bucket.take(1).then(() => order.push('urgent-1')),
    bucket.take(2).then(() => order.push('final')),
    bucket.take(1).then(() => order.push('urgent-2')),
  ];
  now = 500; // 5 tokens refilled
  await Promise.all(waiting);
  assert.deepEqual(order, ['final', 'urgent-1', 'urgent-2', 'normal-1', 'normal-2']);
});

test('token bucket: tryTake never waits and never jumps the queue', async () => {
  let now = 0;
  const bucket = new TokenBucket(10, 1, () => now);
  assert.equal(bucket.tryTake(), true);
  assert.equal(bucket.tryTake(), false, 'no token left');
  const waiter = bucket.take();
  now = 100; // one token refilled, but a waiter was first
  assert.equal(bucket.tryTake(), false);
  await waiter;
});
