// The worker's run directory: a tmpfs under the state dir, kept while anything is in it.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { prepareRunDir, releaseRunDir } from '../../../workers/runtime/run-dir.ts';
import { ROOT_SKIP } from './support/rootfs.ts';

const TMPFS_MAGIC = 0x01021994;
const mounted = (path: string) => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === path);

describe('run directory (root)', { skip: ROOT_SKIP }, () => {
  const state = mkdtempSync(join(tmpdir(), 'burstlet-rundir-'));
  after(() => {
    if (mounted(join(state, 'run'))) releaseRunDir({ path: join(state, 'run'), tmpfs: true });
    rmSync(state, { recursive: true, force: true });
  });

  test('is a tmpfs, mounted once; kept while a file is in it; unmounted and removed when only empty dirs are left', () => {
    const path = join(state, 'run');
    const dir = prepareRunDir(path);
    assert.deepEqual(dir, { path, tmpfs: true });
    assert.equal(statfsSync(path).type, TMPFS_MAGIC);
    assert.deepEqual(prepareRunDir(path), dir, 'a second worker process reuses the mount');
    assert.equal(readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.split(' ')[4] === path).length, 1);

    mkdirSync(join(path, 'executor', 'burstlet', 'state', 'c1'), { recursive: true });
    writeFileSync(join(path, 'executor', 'burstlet', 'state', 'c1', 'state.json'), '{}');
    assert.equal(releaseRunDir(dir), false, 'container state is left: kept for re-adoption');
    assert.ok(mounted(path));
    assert.ok(existsSync(join(path, 'executor', 'burstlet', 'state', 'c1', 'state.json')));

    rmSync(join(path, 'executor', 'burstlet', 'state', 'c1'), { recursive: true });
    mkdirSync(join(path, 'pods'));
    assert.equal(releaseRunDir(dir), true);
    assert.ok(!mounted(path));
    assert.ok(!existsSync(path));
  });
});
