// One suite for both snapshotters (overlay, copy): same layers, same expected rootfs.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
        assert.deepEqual(readdirSync(join(target, 'etc')), ['keep']);
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

test('chain IDs follow the OCI image spec', () => {
  const [a, b] = chainIds([sha('a'), sha('b')]);
  assert.equal(a, sha('a'));
  // sha256("sha256:aaa… sha256:bbb…"), computed independently with sha256sum.
  const expected = execFileSync('sh', ['-c', `printf '%s' "${sha('a')} ${sha('b')}" | sha256sum`]).toString().split(' ')[0];
  assert.equal(b, `sha256:${expected}`);
});
