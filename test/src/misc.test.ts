import assert from 'node:assert/strict';
import { test } from 'node:test';
import { asBurstletError, BurstletError, catalogue, wrapError } from '../../src/errors.ts';
import { redisKeys } from '../../src/keys.ts';
import { bytes, cpuMillis, formatBytes, formatCpu } from '../../src/quantity.ts';

test('quantities parse like Kubernetes', () => {
  assert.equal(cpuMillis('500m'), 500);
  assert.equal(cpuMillis('2'), 2000);
  assert.equal(cpuMillis('0.1'), 100);
  assert.equal(bytes('512Mi'), 512 * 2 ** 20);
  assert.equal(bytes('1G'), 1e9);
  assert.equal(bytes('1e3'), 1000);
  assert.equal(bytes('128974848'), 128974848);
  assert.throws(() => bytes('12XB'), /invalid quantity/);
  assert.throws(() => bytes('.'), /invalid quantity/);
  assert.equal(formatCpu(1500), '1500m');
  assert.equal(formatCpu(2000), '2');
  assert.equal(formatBytes(2 ** 30), '1Gi');
  assert.equal(formatBytes(3 * 2 ** 20), '3Mi');
});

test('error catalogue: stable codes map to a Kubernetes reason and an HTTP status', () => {
  const e = new BurstletError('IMAGE_NOT_FOUND', 'nope');
  assert.equal(e.reason, 'ErrImagePull');
  assert.equal(e.httpStatus, 404);
  assert.equal(new BurstletError('NOT_IMPLEMENTED', 'x').httpStatus, 501);
  for (const [code, entry] of Object.entries(catalogue)) {
    assert.match(code, /^[A-Z_]+$/);
    assert.ok(entry.httpStatus >= 400 && entry.httpStatus < 600, code);
    assert.match(entry.reason, /^[A-Z][A-Za-z]+$/, code);
  }
  const wrapped = wrapError(new Error('disk full'), 'writing layer sha256:ab', 'IMAGE_PULL_FAILED');
  assert.equal(wrapped.message, 'writing layer sha256:ab: disk full');
  assert.equal(wrapped.code, 'IMAGE_PULL_FAILED');
  assert.equal((wrapped.cause as Error).message, 'disk full');
  assert.equal(asBurstletError('x').code, 'INTERNAL');
  assert.equal(asBurstletError(e), e);
});

test('redis keys share one prefix and refuse a bad one', () => {
  const k = redisKeys('bl');
  assert.equal(k.events, 'bl:events');
  assert.equal(k.logs('u', 'c'), 'bl:logs:u:c');
  assert.equal(k.queue('gpu'), 'pods-gpu');
  assert.throws(() => redisKeys('a b'), /invalid key prefix/);
});
