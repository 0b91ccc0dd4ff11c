// Mounts described as data (snapshot rootfs, tmpfs volumes) are performed in-process through
// the native library: mount(8) option words split into MS_* flags and filesystem data. Trees
// are removed and small files written through it too (one pool-thread call each).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FileBatch } from '../../../workers/executor/file-batch.ts';
import { isMounted, mountAt, mountOptions, removeTree, unmount } from '../../../workers/runtime/mounts.ts';

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

test('unmount takes every mount stacked on the target, then stops (root)', { skip: process.getuid?.() !== 0 && 'needs root' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'burstlet-mounts-'));
  try {
    for (let i = 0; i < 3; i++) await mountAt({ type: 'tmpfs', source: 'tmpfs', options: ['size=65536'] }, dir);
    await unmount(dir);
    assert.equal(await isMounted(dir), false);
    await unmount(join(dir, 'no-such-dir')); // nothing there: fine
  } finally {
    await unmount(dir);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('removeTree: removes files, dirs and symlinks (never their targets); stops at a mount point inside (root)', { skip: process.getuid?.() !== 0 && 'needs root' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'burstlet-rmtree-'));
  const outside = join(dir, 'outside');
  const tree = join(dir, 'tree');
  mkdirSync(outside);
  writeFileSync(join(outside, 'keep'), 'k');
  mkdirSync(join(tree, 'a', 'b'), { recursive: true });
  writeFileSync(join(tree, 'a', 'b', 'f'), 'x');
  symlinkSync(outside, join(tree, 'a', 'link-dir'));
  symlinkSync(join(outside, 'keep'), join(tree, 'link-file'));
  const mnt = join(tree, 'a', 'mnt');
  mkdirSync(mnt);
  try {
    await mountAt({ type: 'tmpfs', source: 'tmpfs', options: ['size=65536'] }, mnt);
    writeFileSync(join(mnt, 'inside-the-mount'), 'm');
    await assert.rejects(removeTree(tree), (err: Error & { details?: { errno?: number } }) => err.details?.errno === 16 && /mount point/.test(err.message));
    assert.ok(existsSync(join(mnt, 'inside-the-mount')), 'the mount\'s contents are untouched');
    await unmount(mnt);
    // a bind mount from the same file system (same st_dev) is a mount point too
    await mountAt({ type: 'bind', source: outside, options: ['rbind'] }, mnt);
    await assert.rejects(removeTree(tree), /mount point/);
    assert.equal(readFileSync(join(mnt, 'keep'), 'utf8'), 'k');
    await unmount(mnt);
    await removeTree(tree);
    assert.equal(existsSync(tree), false);
    assert.equal(readFileSync(join(outside, 'keep'), 'utf8'), 'k', 'a symlink\'s target is kept');
    await removeTree(tree); // already gone: fine
    writeFileSync(join(dir, 'file'), 'f');
    await removeTree(join(dir, 'file')); // a plain file
    assert.equal(existsSync(join(dir, 'file')), false);
  } finally {
    await unmount(mnt);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('removeTree: directories wider than one read of entries and a deep chain go entirely (the disk and the tmpfs)', async () => {
  for (const base of [tmpdir(), '/dev/shm']) {
    const dir = mkdtempSync(join(base, 'burstlet-rmtree-wide-'));
    try {
      const wide = join(dir, 'wide');
      mkdirSync(join(wide, 'sub'), { recursive: true });
      // ~600 entries with long names: several getdents reads per directory, removed as it reads
      for (let i = 0; i < 300; i++) {
        writeFileSync(join(wide, `file-with-a-long-name-to-fill-the-buffer-${i}`), 'x');
        writeFileSync(join(wide, 'sub', `another-long-file-name-in-a-subdirectory-${i}`), 'y');
      }
      let deep = join(dir, 'deep');
      for (let i = 0; i < 60; i++) deep = join(deep, 'd');
      mkdirSync(deep, { recursive: true });
      writeFileSync(join(deep, 'bottom'), 'b');
      await removeTree(wide);
      await removeTree(join(dir, 'deep'));
      assert.equal(existsSync(wide), false);
      assert.equal(existsSync(join(dir, 'deep')), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});

test('FileBatch: a mount between dirs and files, then a teardown batch unmounts and removes; a failing mount stops the batch (root)', { skip: process.getuid?.() !== 0 && 'needs root' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'burstlet-batch-mount-'));
  const mnt = join(dir, 'bundle', 'rootfs');
  try {
    await new FileBatch()
      .dir(mnt)
      .mount(mnt, { type: 'tmpfs', source: 'tmpfs', ...mountOptions(['nosuid', 'size=65536']) })
      .file(join(mnt, 'inside'), 'on the tmpfs') // after the mount: lands in it
      .file(join(dir, 'bundle', 'config.json'), '{}')
      .commit();
    assert.equal(await isMounted(mnt), true);
    assert.equal(readFileSync(join(mnt, 'inside'), 'utf8'), 'on the tmpfs');
    // removal never crosses the mount: a tree removal before the unmount fails
    await assert.rejects(new FileBatch().removeTree(join(dir, 'bundle')).commit(), /mount point/);
    assert.equal(readFileSync(join(mnt, 'inside'), 'utf8'), 'on the tmpfs');
    await new FileBatch().unmountAll(mnt).removeTree(join(dir, 'bundle')).commit();
    assert.equal(existsSync(join(dir, 'bundle')), false);
    await new FileBatch().unmountAll(mnt).removeTree(join(dir, 'bundle')).commit(); // again: nothing there is fine
    // a mount that fails names its target and stops the batch
    await assert.rejects(
      new FileBatch().dir(join(dir, 'b2', 'rootfs')).mount(join(dir, 'b2', 'rootfs'), { type: 'nosuchfs', source: 'x' }).file(join(dir, 'b2', 'after'), 'x').commit(),
      /mount nosuchfs on .*b2\/rootfs/,
    );
    assert.equal(existsSync(join(dir, 'b2', 'after')), false, 'nothing after the failure runs');
    assert.throws(() => new FileBatch().mount(mnt, { type: 'tmpfs', source: 'a\0b' }), /bad mount/);
  } finally {
    await unmount(mnt);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('FileBatch: dirs and files in order in one call; exclusive refuses an existing file; the first failure stops it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'burstlet-batch-'));
  try {
    await new FileBatch()
      .dir(join(dir, 'a', 'b', 'c'))
      .file(join(dir, 'a', 'b', 'c', 'x.json'), '{"a":1}')
      .file(join(dir, 'a', 'secret'), Buffer.from([1, 2, 0, 3]), { mode: 0o600 })
      .dir(join(dir, 'a')) // exists: fine
      .commit();
    assert.equal(readFileSync(join(dir, 'a', 'b', 'c', 'x.json'), 'utf8'), '{"a":1}');
    assert.deepEqual([...readFileSync(join(dir, 'a', 'secret'))], [1, 2, 0, 3], 'binary data, NUL included');
    assert.equal(statSync(join(dir, 'a', 'secret')).mode & 0o777, 0o600);
    await new FileBatch().file(join(dir, 'a', 'secret'), 'shorter').commit(); // truncates
    assert.equal(readFileSync(join(dir, 'a', 'secret'), 'utf8'), 'shorter');
    await assert.rejects(
      new FileBatch().file(join(dir, 'a', 'secret'), 'again', { exclusive: true }).file(join(dir, 'after'), 'x').commit(),
      (err: Error & { details?: { errno?: number } }) => err.details?.errno === 17 && err.message.includes(join(dir, 'a', 'secret')),
    );
    assert.equal(existsSync(join(dir, 'after')), false, 'nothing after the failing entry');
    await assert.rejects(new FileBatch().file(join(dir, 'missing-parent', 'f'), 'x').commit(), /missing-parent/);
    assert.throws(() => new FileBatch().file('bad\0path', 'x'), /bad path/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('native pool calls queue past koffi\'s limit of 256 running async calls', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'burstlet-many-'));
  try {
    await Promise.all(Array.from({ length: 600 }, (_, i) => removeTree(join(dir, `missing-${i}`))));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
