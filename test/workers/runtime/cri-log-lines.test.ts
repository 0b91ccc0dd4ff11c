import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { formatCri, MAX_LINE_BYTES, parseCri, rfc3339Nano, splitCri } from '../../../workers/executor/cri-log-lines.ts';
import { RawLogPump } from '../../../workers/executor/raw-log-pump.ts';

test('splitCri: full lines are F, the unfinished rest is kept, long lines become P parts', () => {
  const a = splitCri('stdout', Buffer.alloc(0), Buffer.from('one\ntw'), 'T');
  assert.deepEqual(a.lines.map((l) => `${l.tag}:${l.line}`), ['F:one']);
  const b = splitCri('stdout', a.rest, Buffer.from('o\n\n'), 'T');
  assert.deepEqual(b.lines.map((l) => `${l.tag}:${l.line}`), ['F:two', 'F:']);
  const long = splitCri('stderr', Buffer.alloc(0), Buffer.from(`${'x'.repeat(MAX_LINE_BYTES + 5)}\n`), 'T');
  assert.deepEqual(long.lines.map((l) => [l.tag, l.line.length]), [['P', MAX_LINE_BYTES], ['F', 5]]);
});

test('formatCri/parseCri round-trip and RFC 3339 nano timestamps', () => {
  const ts = rfc3339Nano(Date.UTC(2026, 0, 2, 3, 4, 5, 678));
  assert.match(ts, /^2026-01-02T03:04:05\.678\d{6}Z$/);
  const text = formatCri({ ts, stream: 'stderr', tag: 'P', line: 'a b  c' });
  assert.deepEqual(parseCri(text.slice(0, -1)), { ts, stream: 'stderr', tag: 'P', line: 'a b  c' });
  assert.equal(parseCri('garbage'), undefined);
});

test('RawLogPump: converts both raw files, resumes from saved offsets, flushes the last partial line', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'burstlet-pump-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const log = join(dir, 'c.log');
  appendFileSync(join(dir, 'stdout.raw'), 'a\nb');
  appendFileSync(join(dir, 'stderr.raw'), 'e\n');
  await new RawLogPump(dir, log).drain(false);
  appendFileSync(join(dir, 'stdout.raw'), 'c\nd');
  const adopter = new RawLogPump(dir, log); // a restarted worker
  await adopter.stop(true);
  const lines = readFileSync(log, 'utf8').trim().split('\n').map((l) => parseCri(l)!);
  assert.deepEqual(lines.map((l) => `${l.stream}:${l.line}`), ['stdout:a', 'stderr:e', 'stdout:bc', 'stdout:d']);
});
