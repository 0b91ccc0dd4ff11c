// Runs the C unit tests of native/ (json, spec, CRI log, mount options) through make.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';

test('native C unit tests pass (make -C native check)', () => {
  const r = spawnSync('make', ['-s', '-C', join(import.meta.dirname, '../../native'), 'check'], { encoding: 'utf8' });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
});
