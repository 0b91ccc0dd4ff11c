// Mounts described as data (snapshot rootfs, tmpfs volumes) are performed in-process through
// the native library: mount(8) option words split into MS_* flags and filesystem data.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isMounted, mountAt, mountOptions, unmount } from '../../../workers/runtime/mounts.ts';

test('mount options: flags vs filesystem data', () => {
  assert.deepEqual(mountOptions(['ro', 'nosuid', 'nodev', 'mode=1777', 'size=1024']), { flags: 0x1 | 0x2 | 0x4, data: 'mode=1777,size=1024' });
  assert.deepEqual(mountOptions(['ro', 'rw', 'lowerdir=/a:/b', 'upperdir=/u', 'workdir=/w']), { flags: 0, data: 'lowerdir=/a:/b,upperdir=/u,workdir=/w' });
  assert.deepEqual(mountOptions([]), { flags: 0, data: '' });
});

test('tmpfs with a size, read-only bind, unmount is idempotent (root)', { skip: process.getuid?.() !== 0 && 'needs root' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'burstlet-mounts-'));
  const t = join(dir, 't');
  const src = join(dir, 'src');
  const ro = join(dir, 'ro');
  for (const d of [t, src, ro]) mkdirSync(d);
  try {
    await mountAt({ type: 'tmpfs', source: 'tmpfs', options: ['mode=1777', 'size=65536'] }, t);
    assert.ok(await isMounted(t));
    assert.equal(statSync(t).mode & 0o7777, 0o1777);
    assert.throws(() => writeFileSync(join(t, 'big'), Buffer.alloc(200_000)), /ENOSPC/);
    await mountAt({ type: 'bind', source: src, options: ['rbind', 'ro'] }, ro);
    assert.throws(() => writeFileSync(join(ro, 'x'), 'x'), /EROFS/);
    await assert.rejects(mountAt({ type: 'nosuchfs', source: 'x', options: [] }, join(dir, 'missing')), /mount nosuchfs x on .*missing/);
  } finally {
    await unmount(t);
    await unmount(ro);
    await unmount(ro);
    assert.equal(await isMounted(t), false);
    assert.equal(await isMounted(ro), false);
    rmSync(dir, { recursive: true });
  }
});
