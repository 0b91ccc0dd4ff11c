import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseLogOptions } from '../../../provider/api/log-options.ts';
import { BurstletError } from '../../../src/errors.ts';

const NOW = Date.parse('2026-05-01T12:00:00Z');

test('booleans decode like apimachinery: present and not false/0 is true, even empty', () => {
  const o = parseLogOptions({ follow: '', previous: 'true', timestamps: '0' }, NOW);
  assert.deepEqual([o.follow, o.previous, o.timestamps], [true, true, false]);
  assert.equal(parseLogOptions({ follow: 'FALSE' }, NOW).follow, false);
  assert.equal(parseLogOptions({}, NOW).follow, false);
});

test('integers, sinceSeconds relative to now, sinceTime absolute, legacy tail', () => {
  const o = parseLogOptions({ tailLines: '10', limitBytes: '100', sinceSeconds: '30' }, NOW);
  assert.deepEqual([o.tailLines, o.limitBytes, o.sinceMs], [10, 100, NOW - 30_000]);
  assert.equal(parseLogOptions({ sinceTime: '2026-05-01T11:00:00Z' }, NOW).sinceMs, NOW - 3_600_000);
  assert.equal(parseLogOptions({ tail: '5' }, NOW).tailLines, 5);
  assert.equal(parseLogOptions({ tail: 'all', tailLines: '3' }, NOW).tailLines, undefined);
});

test('invalid options are INVALID_INPUT with the kubelet validation reason', () => {
  const bad: [Record<string, string>, RegExp][] = [
    [{ tailLines: '-1' }, /tailLines must be greater than or equal to 0/],
    [{ limitBytes: '0' }, /limitBytes must be greater than 0/],
    [{ sinceSeconds: '0' }, /sinceSeconds must be greater than 0/],
    [{ sinceSeconds: '1', sinceTime: '2026-05-01T11:00:00Z' }, /at most one of sinceTime or sinceSeconds/],
    [{ tailLines: '1.5' }, /not an integer/],
    [{ sinceTime: '12:00' }, /not an RFC 3339 time/],
  ];
  for (const [q, message] of bad) {
    assert.throws(() => parseLogOptions(q, NOW), (e: unknown) => e instanceof BurstletError && e.code === 'INVALID_INPUT' && message.test(e.message), JSON.stringify(q));
  }
});
