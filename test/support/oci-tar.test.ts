// The tar writer and the tiny reader used to inspect test layers: round trip, long names
// (ustar prefix and pax), links and devices, determinism, corruption detected.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { listTar } from './oci-tar-reader.ts';
import { TAR_MTIME, tarArchive, tarEnd, tarHeader, tarPadding, type TarEntry } from './oci-tar.ts';

const ENTRIES: TarEntry[] = [
  { name: 'dir/', type: 'dir', mode: 0o1777 },
  { name: 'dir/file.txt', type: 'file', data: 'hello\n', uid: 65534, gid: 65534 },
  { name: 'link', type: 'symlink', linkname: '../../outside' },
  { name: 'hard', type: 'hardlink', linkname: 'dir/file.txt' },
  { name: 'dev/null', type: 'char', devmajor: 1, devminor: 3, mode: 0o666 },
  { name: `${'p'.repeat(120)}/${'n'.repeat(90)}`, type: 'file', data: 'ustar prefix split' },
  { name: `${'x'.repeat(300)}.txt`, type: 'file', data: 'pax path' },
  { name: 'long-link', type: 'symlink', linkname: `/${'t'.repeat(200)}` },
];

test('tar: entries round-trip through the writer and reader exactly', () => {
  const listed = listTar(tarArchive(ENTRIES));
  assert.deepEqual(listed.map((e) => [e.name, e.type, e.linkname]), ENTRIES.map((e) => [e.name, e.type, e.linkname ?? '']));
  assert.equal(listed[0].mode, 0o1777);
  assert.equal(listed[1].data.toString(), 'hello\n');
  assert.deepEqual([listed[1].uid, listed[1].gid], [65534, 65534]);
  assert.deepEqual([listed[4].devmajor, listed[4].devminor], [1, 3]);
  assert.equal(listed[6].data.toString(), 'pax path');
});

test('tar: output is deterministic and block aligned, with the fixed mtime', () => {
  const a = tarArchive(ENTRIES);
  assert.ok(a.equals(tarArchive(ENTRIES)));
  assert.equal(a.length % 512, 0);
  assert.equal(parseInt(a.subarray(136, 147).toString(), 8), TAR_MTIME);
});

test('tar: a streamed entry (header, data, padding, end) reads like an in-memory one', () => {
  const data = Buffer.from('streamed content');
  const streamed = Buffer.concat([tarHeader({ name: 'f', type: 'file', size: data.length }), data, tarPadding(data.length), tarEnd()]);
  assert.ok(streamed.equals(tarArchive([{ name: 'f', type: 'file', data }])));
});

test('tar: the reader rejects a corrupted header and a missing end marker', () => {
  const tar = tarArchive(ENTRIES.slice(0, 2));
  const corrupt = Buffer.from(tar);
  corrupt[0] ^= 1;
  assert.throws(() => listTar(corrupt), /checksum/);
  assert.throws(() => listTar(tar.subarray(0, tar.length - 1024)), /end-of-archive/);
});
