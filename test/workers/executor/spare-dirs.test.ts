// Spare directories: FileBatch's in-place overwrite, recycle and takeSpare steps, and the pool.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FileBatch } from '../../../workers/executor/file-batch.ts';
import { SpareDirs } from '../../../workers/executor/spare-dirs.ts';

const isRoot = process.getuid?.() === 0;
const ino = (p: string) => statSync(p).ino;
/** user.* xattrs of `path` (setfattr/getfattr are not everywhere: Node has no xattr API). */
const xattrs = (p: string) => spawnSync('getfattr', ['--absolute-names', '-d', '-m', '-', p], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l && !l.startsWith('#'));
const hasAttr = spawnSync('setfattr', ['--version']).status === 0;

test('overwrite writes a file in place: same inode, longer and shorter contents, mode reset', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'burstlet-overwrite-'));
  try {
    const f = join(dir, 'hosts');
    await new FileBatch().overwrite(f, 'a fairly long first content\n').commit(); // created
    assert.equal(readFileSync(f, 'utf8'), 'a fairly long first content\n');
    assert.equal(statSync(f).mode & 0o7777, 0o644);
    const first = ino(f);
    chmodSync(f, 0o600);
    await new FileBatch().overwrite(f, 'short\n').commit();
    assert.equal(readFileSync(f, 'utf8'), 'short\n', 'the old tail is cut off');
    assert.equal(ino(f), first, 'the same file, not a new one');
    assert.equal(statSync(f).mode & 0o7777, 0o644, 'mode reset');
    await new FileBatch().overwrite(f, 'longer than the one before\n', 0o640).commit();
    assert.equal(readFileSync(f, 'utf8'), 'longer than the one before\n');
    assert.equal(statSync(f).mode & 0o7777, 0o640);
    mkdirSync(join(dir, 'd'));
    await assert.rejects(new FileBatch().overwrite(join(dir, 'd'), 'x').commit(), /d/);
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    await assert.rejects(new FileBatch().overwrite(join(dir, 'fifo'), 'x').commit(), /fifo/, 'fails, does not wait for a reader');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('overwrite takes back owner and extended attributes a container set (root)', { skip: (!isRoot || !hasAttr) && 'needs root and setfattr' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'burstlet-overwrite-'));
  try {
    const f = join(dir, 'hosts');
    writeFileSync(f, 'x');
    chownSync(f, 1234, 5678);
    execFileSync('setfattr', ['-n', 'user.left', '-v', 'secret', f]);
    assert.equal(xattrs(f).length, 1);
    await new FileBatch().overwrite(f, 'next pod').commit();
    assert.deepEqual([statSync(f).uid, statSync(f).gid], [0, 0]);
    assert.deepEqual(xattrs(f), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('overwrite drops more extended attributes than one 4 KiB listing holds (root, tmpfs)', { skip: (!isRoot || !hasAttr || !existsSync('/dev/shm')) && 'needs root, setfattr and /dev/shm' }, async () => {
  const dir = mkdtempSync(join('/dev/shm', 'burstlet-overwrite-'));
  try {
    const f = join(dir, 'hosts');
    writeFileSync(f, 'x');
    const names = Array.from({ length: 150 }, (_, i) => `user.a-fairly-long-attribute-name-number-${i}`);
    // All in one setfattr (its --restore reads getfattr's dump format).
    const dump = `# file: ${f}\n${names.map((n) => `${n}="1"`).join('\n')}\n`;
    if (spawnSync('setfattr', ['--restore=-'], { input: dump }).status !== 0) return; // no user xattrs on this tmpfs
    assert.ok(names.join('\0').length > 4096);
    assert.equal(xattrs(f).length, 150);
    await new FileBatch().overwrite(f, 'next pod').commit();
    assert.deepEqual(xattrs(f), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('recycle empties a dir but for the kept names, resets kept dirs and moves it to the spares; takeSpare brings it back', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'burstlet-recycle-'));
  try {
    const pod = join(dir, 'pods', 'uid-1');
    const spares = join(dir, 'spare');
    mkdirSync(join(pod, 'logs', 'main'), { recursive: true });
    mkdirSync(spares);
    writeFileSync(join(pod, 'logs', 'main', '0.log'), 'old pod log');
    writeFileSync(join(pod, 'hosts'), 'old hosts');
    mkdirSync(join(pod, 'volumes', 'cache', 'deep'), { recursive: true });
    writeFileSync(join(pod, 'volumes', 'cache', 'deep', 'f'), 'x');
    chmodSync(join(pod, 'logs'), 0o700);
    execFileSync('ln', ['-s', '/etc/passwd', join(pod, 'resolv.conf')]); // kept names, but no regular files: they go
    execFileSync('mkfifo', [join(pod, 'hostname')]);
    const inodes = { pod: ino(pod), logs: ino(join(pod, 'logs')), hosts: ino(join(pod, 'hosts')) };
    await new FileBatch().recycle(pod, spares, 4, ['hosts', 'logs', 'resolv.conf', 'hostname', 'missing']).commit();
    assert.equal(existsSync(pod), false);
    assert.deepEqual(readdirSync(spares), [`s-${inodes.pod}`], 'named by its inode');
    const spare = join(spares, `s-${inodes.pod}`);
    assert.deepEqual(readdirSync(spare).sort(), ['hosts', 'logs'], 'what is not kept is gone; a kept name that is missing is fine');
    assert.deepEqual(readdirSync(join(spare, 'logs')), [], 'a kept dir is emptied');
    assert.equal(statSync(join(spare, 'logs')).mode & 0o7777, 0o755, 'and reset');
    assert.equal(readFileSync(join(spare, 'hosts'), 'utf8'), 'old hosts', 'a kept file waits for an overwrite');
    // The next pod takes it: same directory and files, new contents.
    const next = join(dir, 'pods', 'uid-2');
    await new FileBatch().takeSpare(next, spares).overwrite(join(next, 'hosts'), 'new').commit();
    assert.deepEqual(readdirSync(spares), []);
    assert.deepEqual({ pod: ino(next), logs: ino(join(next, 'logs')), hosts: ino(join(next, 'hosts')) }, inodes);
    assert.equal(readFileSync(join(next, 'hosts'), 'utf8'), 'new');
    // No spare (or no spare dir): the directory is made.
    await new FileBatch().takeSpare(join(dir, 'pods', 'uid-3'), spares).takeSpare(join(dir, 'pods', 'uid-4', 'x'), join(dir, 'gone')).takeSpare(join(dir, 'pods', 'uid-5'), undefined).commit();
    for (const d of ['uid-3', 'uid-4/x', 'uid-5']) assert.ok(statSync(join(dir, 'pods', d)).isDirectory());
    // A spare is never renamed over an existing directory: that one stays as it is, and so does the spare.
    mkdirSync(join(spares, 's-1'));
    writeFileSync(join(next, 'mine'), 'keep me');
    await new FileBatch().takeSpare(next, spares).commit();
    assert.equal(readFileSync(join(next, 'mine'), 'utf8'), 'keep me');
    assert.deepEqual(readdirSync(spares), ['s-1']);
    // Only "s-" dirs are spares.
    mkdirSync(join(spares, 'other'));
    await new FileBatch().takeSpare(join(dir, 'pods', 'uid-6'), spares).commit();
    assert.deepEqual(readdirSync(spares), ['other']);
    // With no room (max spares there already) or nowhere to go, the dir is removed; a missing dir is fine.
    mkdirSync(join(spares, 's-2'));
    await new FileBatch().recycle(next, spares, 1, ['hosts']).recycle(join(dir, 'pods', 'uid-3'), join(dir, 'gone'), 4, []).recycle(join(dir, 'nothing'), spares, 4, []).commit();
    assert.equal(existsSync(next), false);
    assert.equal(existsSync(join(dir, 'pods', 'uid-3')), false);
    assert.deepEqual(readdirSync(spares).sort(), ['other', 's-2']);
    assert.throws(() => new FileBatch().recycle(next, spares, 4, ['a/b']), /bad recycle/);
    assert.throws(() => new FileBatch().recycle(next, '', 4, []), /bad recycle/);
    assert.throws(() => new FileBatch().recycle(next, spares, -1, []), /bad recycle/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('recycle keeps a "name/" tree: dirs stay, files stay emptied and reset, the rest goes; past 64 entries it is removed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'burstlet-recycle-'));
  try {
    const pod = join(dir, 'pod');
    const logs = join(pod, 'logs');
    mkdirSync(join(logs, 'main'), { recursive: true });
    writeFileSync(join(logs, 'main', '0.log'), 'old log line\n');
    writeFileSync(join(logs, 'main', '0.termination-log'), 'old message');
    chmodSync(join(logs, 'main', '0.termination-log'), 0o4777);
    execFileSync('ln', ['-s', '/etc/passwd', join(logs, 'main', 'link')]);
    execFileSync('mkfifo', [join(logs, 'main', 'fifo')]);
    const inodes = [join(logs, 'main'), join(logs, 'main', '0.log')].map(ino);
    const podIno = ino(pod);
    await new FileBatch().recycle(pod, dir, 4, ['logs/']).commit();
    const kept = join(dir, `s-${podIno}`, 'logs', 'main');
    assert.deepEqual(readdirSync(kept).sort(), ['0.log', '0.termination-log']);
    assert.deepEqual([kept, join(kept, '0.log')].map(ino), inodes);
    assert.equal(readFileSync(join(kept, '0.log'), 'utf8'), '');
    assert.equal(readFileSync(join(kept, '0.termination-log'), 'utf8'), '');
    assert.equal(statSync(join(kept, '0.termination-log')).mode & 0o7777, 0o777, 'no setuid bit left');
    // A tree with more entries than that is not kept whole.
    mkdirSync(join(dir, 'big', 'logs'), { recursive: true });
    for (let i = 0; i < 70; i++) writeFileSync(join(dir, 'big', 'logs', `${i}.log`), 'x');
    const bigIno = ino(join(dir, 'big'));
    await new FileBatch().recycle(join(dir, 'big'), dir, 4, ['logs/']).commit();
    const left = readdirSync(join(dir, `s-${bigIno}`, 'logs'));
    assert.equal(left.length, 64);
    for (const f of left) assert.equal(readFileSync(join(dir, `s-${bigIno}`, 'logs', f), 'utf8'), '');
    assert.throws(() => new FileBatch().recycle(pod, dir, 4, ['logs//']), /bad recycle/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('recycle never crosses a mount: a dir with a mount inside fails and stays (root)', { skip: !isRoot && 'needs root' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'burstlet-recycle-'));
  const mnt = join(dir, 'pod', 'logs', 'mnt');
  try {
    mkdirSync(mnt, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', mnt]);
    writeFileSync(join(mnt, 'inside'), 'x');
    await assert.rejects(new FileBatch().recycle(join(dir, 'pod'), dir, 4, ['logs']).commit(), /mount point/);
    assert.equal(readFileSync(join(mnt, 'inside'), 'utf8'), 'x');
    assert.deepEqual(readdirSync(dir), ['pod']);
  } finally {
    spawnSync('umount', [mnt]);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('SpareDirs: at most max spares, the rest removed; a batch that fails or never runs takes none', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'burstlet-spares-'));
  try {
    const pool = new SpareDirs(join(dir, 'spare'), 2);
    const batch = new FileBatch();
    for (const n of ['a', 'b', 'c']) {
      mkdirSync(join(dir, n, 'upper'), { recursive: true });
      writeFileSync(join(dir, n, 'upper', 'f'), n);
      pool.give(batch, join(dir, n), ['upper']);
    }
    await batch.commit();
    assert.deepEqual(['a', 'b', 'c'].filter((n) => existsSync(join(dir, n))), []);
    assert.equal(readdirSync(join(dir, 'spare')).length, 2, 'the third was removed');
    for (const s of readdirSync(join(dir, 'spare'))) assert.deepEqual(readdirSync(join(dir, 'spare', s, 'upper')), []);
    // A take in a batch that is never committed, or that stops before it, takes nothing.
    pool.take(new FileBatch(), join(dir, 'never'));
    await assert.rejects(pool.take(new FileBatch().file(join(dir, 'missing', 'f'), 'x'), join(dir, 'x')).commit(), /missing/);
    assert.equal(readdirSync(join(dir, 'spare')).length, 2);
    // A new pool (a restarted worker) uses what is on disk.
    const again = new SpareDirs(join(dir, 'spare'), 2);
    await again.take(new FileBatch(), join(dir, 'x')).commit();
    assert.deepEqual(readdirSync(join(dir, 'x')), ['upper']);
    assert.equal(readdirSync(join(dir, 'spare')).length, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
