// One suite for both snapshotters (overlay, copy): same layers, same expected rootfs.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { applyLayer } from '../../workers/image/layer-applier.ts';
import { CopySnapshotter } from '../../workers/image/copy-snapshotter.ts';
import { OverlaySnapshotter } from '../../workers/image/overlay-snapshotter.ts';
import { chainIds, type Mount, type Snapshotter } from '../../workers/image/snapshotter.ts';
import { buildTar, chunked, type TarSpec } from './support/tar-writer.ts';

const isRoot = process.getuid?.() === 0;
const sha = (c: string) => `sha256:${c.repeat(64)}`;

function commitLayer(s: Snapshotter, chainId: string, parent: string | undefined, entries: TarSpec[]) {
  return s.commit(chainId, parent, async (target) => {
    await applyLayer(chunked(buildTar(entries)), { ...target, lowers: await target.lowers(), devices: 'skip', maxBytes: 1 << 20, image: 'snap', layer: chainId });
  });
}

/** Performs the described mounts the way the runtime will, runs fn, unmounts. */
function withMounted(mounts: readonly Mount[], target: string, fn: () => void): void {
  mkdirSync(target, { recursive: true });
  const [m] = mounts;
  const args = m.type === 'bind' ? ['--bind', m.source, target] : ['-t', m.type, '-o', m.options.join(','), m.source, target];
  execFileSync('mount', args);
  try {
    fn();
  } finally {
    execFileSync('umount', [target]);
  }
}

const LOWER: TarSpec[] = [
  { path: 'etc/', type: 'dir' }, { path: 'etc/keep', body: 'keep' }, { path: 'etc/gone', body: 'gone' },
  { path: 'opq/', type: 'dir' }, { path: 'opq/old', body: 'old' },
];
const UPPER: TarSpec[] = [
  { path: 'etc/.wh.gone' }, { path: 'opq/', type: 'dir' }, { path: 'opq/.wh..wh..opq' }, { path: 'opq/new', body: 'new' },
];

for (const make of [(d: string) => new OverlaySnapshotter(d), (d: string) => new CopySnapshotter(d)]) {
  const kind = make('/nonexistent').kind;
  describe(`${kind} snapshotter`, { skip: !isRoot && 'needs root (whiteout devices, chown, mount)' }, () => {
    const base = () => {
      const d = mkdtempSync(join(tmpdir(), `burstlet-snap-${kind}-`));
      return d;
    };

    test(`whiteouts and opaque dirs show right in the mounted rootfs (root)`, async (t) => {
      const dir = base();
      t.after(() => rmSync(dir, { recursive: true, force: true }));
      const s = make(join(dir, 'store'));
      const [c1, c2] = chainIds([sha('1'), sha('2')]);
      await commitLayer(s, c1, undefined, LOWER);
      await commitLayer(s, c2, c1, UPPER);
      assert.deepEqual((await s.list()).sort(), [c1, c2].sort());
      const mounts = await s.prepare('ctr-1', c2);
      assert.equal(mounts[0].type, kind === 'overlay' ? 'overlay' : 'bind');
      const target = join(dir, 'mnt');
      withMounted(mounts, target, () => {
        // The overlay's init layer adds the mount points every container gets (init-layer.ts).
        const mountPoints = kind === 'overlay' ? ['hostname', 'hosts', 'resolv.conf'] : [];
        assert.deepEqual(readdirSync(join(target, 'etc')).sort(), ['keep', ...mountPoints].sort());
        assert.deepEqual(readdirSync(join(target, 'opq')), ['new']);
        writeFileSync(join(target, 'etc/written'), 'by the container');
      });
      // The container's write stays in its own layer; a second container starts clean.
      withMounted(await s.prepare('ctr-2', c2), join(dir, 'mnt2'), () => {
        assert.ok(!existsSync(join(dir, 'mnt2/etc/written')));
        assert.equal(readFileSync(join(dir, 'mnt2/etc/keep'), 'utf8'), 'keep');
      });
      await s.release('ctr-1');
      await s.release('ctr-2');
      assert.equal(await s.gc(new Set([c1])), 1);
      assert.deepEqual(await s.list(), [c1]);
      // The init layer went with the snapshot it sat on.
      assert.deepEqual(readdirSync(join(dir, 'store', 'snapshots')), [c1.slice(7)]);
    });

    test('a failed apply leaves no snapshot; concurrent commits apply once (root)', async (t) => {
      const dir = base();
      t.after(() => rmSync(dir, { recursive: true, force: true }));
      const s = make(join(dir, 'store'));
      const [c1] = chainIds([sha('3')]);
      await assert.rejects(s.commit(c1, undefined, async (target) => {
        writeFileSync(join(target.root, 'half'), 'x');
        throw new Error('boom');
      }), /boom/);
      assert.equal(await s.has(c1), false);
      assert.deepEqual(readdirSync(join(dir, 'store', 'snapshots')), []);
      let applied = 0;
      await Promise.all(Array.from({ length: 5 }, () => s.commit(c1, undefined, async (target) => {
        applied++;
        writeFileSync(join(target.root, 'f'), 'x');
      })));
      assert.equal(applied, 1);
      assert.ok(await s.has(c1));
      // A temp dir a crash left behind goes at the next gc; committed snapshots kept stay.
      mkdirSync(join(dir, 'store', 'snapshots', 'tmp-crashed', 'fs'), { recursive: true });
      assert.equal(await s.gc(new Set([c1])), 0);
      assert.deepEqual(readdirSync(join(dir, 'store', 'snapshots')), [c1.slice(7)]);
    });
  });
}

describe('overlay init layer', { skip: !isRoot && 'needs root (chown, mount)' }, () => {
  const stat = (p: string) => {
    const st = lstatSync(p);
    return { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtimeMs, type: st.isDirectory() ? 'dir' : st.isFile() ? 'file' : st.isSymbolicLink() ? 'symlink' : 'other' };
  };

  test('adds only the mount points the image lacks, leaving what the image has as it is (root)', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'burstlet-snap-init-'));
    const plain = join(dir, 'plain');
    t.after(() => {
      spawnSync('umount', [plain]);
      rmSync(dir, { recursive: true, force: true });
    });
    const s = new OverlaySnapshotter(join(dir, 'store'));
    const [c1, c2] = chainIds([sha('4'), sha('5')]);
    // /etc with its own mode and owner; /etc/hosts present; /sys a symlink; no /proc, no /dev.
    await commitLayer(s, c1, undefined, [
      { path: 'etc/', type: 'dir', mode: 0o750, uid: 12, gid: 34 }, { path: 'etc/hosts', body: 'image hosts' },
      { path: 'sys', type: 'symlink', linkname: 'elsewhere' }, { path: 'elsewhere/', type: 'dir' },
    ]);
    await commitLayer(s, c2, c1, [{ path: 'etc/hostname', body: 'image hostname' }]);
    mkdirSync(plain);
    execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${join(dir, 'store/snapshots', c2.slice(7), 'fs')}:${join(dir, 'store/snapshots', c1.slice(7), 'fs')}`, plain]);
    const target = join(dir, 'mnt');
    withMounted(await s.prepare('ctr-1', c2), target, () => {
      assert.deepEqual(readdirSync(join(target, 'etc')).sort(), ['hostname', 'hosts', 'resolv.conf']);
      assert.equal(readFileSync(join(target, 'etc/hosts'), 'utf8'), 'image hosts');
      assert.equal(readFileSync(join(target, 'etc/hostname'), 'utf8'), 'image hostname');
      assert.deepEqual(stat(join(target, 'etc/resolv.conf')), { ...stat(join(target, 'etc/resolv.conf')), mode: 0o644, uid: 0, gid: 0, type: 'file' });
      assert.equal(readFileSync(join(target, 'etc/resolv.conf'), 'utf8'), '');
      // /etc looks as the image has it: mode, owner and times.
      const [etc, image] = [stat(join(target, 'etc')), stat(join(plain, 'etc'))];
      assert.deepEqual({ ...etc, mtime: 0 }, { ...image, mtime: 0 });
      assert.ok(Math.abs(etc.mtime - image.mtime) < 0.01, `mtime ${etc.mtime} vs the image's ${image.mtime}`);
      assert.deepEqual({ ...stat(join(target, 'proc')), mtime: 0 }, { mode: 0o755, uid: 0, gid: 0, mtime: 0, type: 'dir' });
      assert.equal(stat(join(target, 'dev')).type, 'dir');
      assert.equal(stat(join(target, 'sys')).type, 'symlink');
      // The service-account token's mount point, as the runtime would make it.
      assert.deepEqual({ ...stat(join(target, 'var/run/secrets/kubernetes.io/serviceaccount')), mtime: 0 }, { mode: 0o755, uid: 0, gid: 0, mtime: 0, type: 'dir' });
    });
    // Made once per image: a second container sits on the same layer.
    const [m2] = await s.prepare('ctr-2', c2);
    const [m1] = await s.prepare('ctr-1', c2);
    const lower = (m: Mount) => m.options.find((o) => o.startsWith('lowerdir='));
    assert.equal(lower(m2), lower(m1));
    assert.match(lower(m1)!, new RegExp(`^lowerdir=[^:]*/init-${c2.slice(7)}/fs:`));
    // A new snapshotter (a restarted worker) finds it on disk.
    const again = new OverlaySnapshotter(join(dir, 'store'));
    assert.equal(lower((await again.prepare('ctr-3', c2))[0]), lower(m1));
    for (const id of ['ctr-1', 'ctr-2', 'ctr-3']) await s.release(id);
    assert.equal(s.initError, undefined);
  });

  test('nothing is made below a parent that is not a directory in the image (root)', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'burstlet-snap-init-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const s = new OverlaySnapshotter(join(dir, 'store'));
    const [c1] = chainIds([sha('6')]);
    await commitLayer(s, c1, undefined, [
      { path: 'etc', type: 'symlink', linkname: 'private/etc' }, { path: 'private/etc/', type: 'dir' },
      { path: 'var/', type: 'dir' }, { path: 'var/run', type: 'symlink', linkname: '../run' }, { path: 'run/', type: 'dir' },
    ]);
    const target = join(dir, 'mnt');
    withMounted(await s.prepare('ctr-1', c1), target, () => {
      assert.equal(stat(join(target, 'etc')).type, 'symlink');
      assert.deepEqual(readdirSync(join(target, 'private/etc')), []);
      assert.equal(stat(join(target, 'var/run')).type, 'symlink');
      assert.deepEqual(readdirSync(join(target, 'run')), []);
      assert.deepEqual(readdirSync(target).sort(), ['dev', 'etc', 'private', 'proc', 'run', 'sys', 'var']);
    });
    await s.release('ctr-1');
  });
});

describe('overlay container dirs are reused', { skip: !isRoot && 'needs root (mount, chown)' }, () => {
  test('a released container\'s dir is the next one\'s: emptied, its root reset, its record rewritten (root)', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'burstlet-snap-spare-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const s = new OverlaySnapshotter(join(dir, 'store'));
    const [c1] = chainIds([sha('7')]);
    const [c2] = chainIds([sha('8')]);
    await commitLayer(s, c1, undefined, LOWER);
    await commitLayer(s, c2, undefined, [{ path: 'other', body: 'other image' }]);
    const target = join(dir, 'mnt');
    withMounted(await s.prepare('ctr-1', c1), target, () => {
      writeFileSync(join(target, 'written'), 'by ctr-1');
      writeFileSync(join(target, 'etc/keep'), 'changed by ctr-1'); // copied up
      execFileSync('chmod', ['700', target]);
      execFileSync('chown', ['123:456', target]);
      execFileSync('setfattr', ['-n', 'user.left', '-v', 'by ctr-1', target]);
    });
    const upper1 = join(dir, 'store/active/ctr-1/upper');
    const inode = lstatSync(upper1).ino;
    await s.release('ctr-1');
    assert.equal(existsSync(join(dir, 'store/active/ctr-1')), false);
    assert.deepEqual([...await s.inUse()], []);
    // The next container, on another image, gets the same dir.
    withMounted(await s.prepare('ctr-2', c2), target, () => {
      assert.deepEqual(readdirSync(target).sort(), ['dev', 'etc', 'other', 'proc', 'sys', 'var']);
      const root = lstatSync(target);
      assert.deepEqual([root.mode & 0o7777, root.uid, root.gid], [0o755, 0, 0]);
      assert.equal(execFileSync('getfattr', ['--absolute-names', '-d', target], { encoding: 'utf8' }), '');
    });
    assert.equal(lstatSync(join(dir, 'store/active/ctr-2/upper')).ino, inode, 'reused, not made anew');
    assert.deepEqual([...await s.inUse()], [c2]);
    // The first image again: nothing of ctr-1's writes is left.
    withMounted(await s.prepare('ctr-3', c1), target, () => {
      assert.equal(existsSync(join(target, 'written')), false);
      assert.equal(readFileSync(join(target, 'etc/keep'), 'utf8'), 'keep');
    });
    // A new snapshotter (a restarted worker) takes the spares left on disk.
    await s.release('ctr-2');
    const again = new OverlaySnapshotter(join(dir, 'store'));
    await again.prepare('ctr-4', c2);
    assert.equal(lstatSync(join(dir, 'store/active/ctr-4/upper')).ino, inode);
    for (const id of ['ctr-3', 'ctr-4']) await again.release(id);
    assert.equal(await again.gc(new Set()), 2, 'spares hold no image');
  });
});

test('chain IDs follow the OCI image spec', () => {
  const [a, b] = chainIds([sha('a'), sha('b')]);
  assert.equal(a, sha('a'));
  // sha256("sha256:aaa… sha256:bbb…"), computed independently with sha256sum.
  const expected = execFileSync('sh', ['-c', `printf '%s' "${sha('a')} ${sha('b')}" | sha256sum`]).toString().split(' ')[0];
  assert.equal(b, `sha256:${expected}`);
});
