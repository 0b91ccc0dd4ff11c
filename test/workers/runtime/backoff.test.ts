import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CrashBackoff, KUBELET_BACKOFF } from '../../../workers/runtime/backoff.ts';

test('CrashBackoff: immediate first restart, then 10 s doubling to 5 min', () => {
  const b = new CrashBackoff(KUBELET_BACKOFF);
  const delays = Array.from({ length: 8 }, () => b.next(1_000));
  assert.deepEqual(delays, [0, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000]);
});

test('CrashBackoff: a container that ran 10 minutes starts over', () => {
  const b = new CrashBackoff({ baseMs: 100, maxMs: 1_000, resetMs: 5_000 });
  b.next(0);
  b.next(0);
  assert.equal(b.next(0), 200);
  assert.equal(b.next(5_000), 0);
  assert.equal(b.next(0), 100);
});
