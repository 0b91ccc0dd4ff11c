import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { TarFormatError, TarReader, type TarEntry } from '../../workers/image/tar-reader.ts';
import { buildTar } from './support/tar-writer.ts';

function parse(buf: Buffer, chunk = 100): { entry: TarEntry; body: string }[] {
  const out: { entry: TarEntry; body: string }[] = [];
  let parts: Buffer[] = [];
  const reader = new TarReader({
    entry: (entry) => { out.push({ entry, body: '' }); parts = []; },
    data: (c) => parts.push(Buffer.from(c)),
    entryEnd: () => { out[out.length - 1].body = Buffer.concat(parts).toString(); },
  });
  for (let off = 0; off < buf.length; off += chunk) reader.push(buf.subarray(off, off + chunk));
  reader.end();
  return out;
}

test('reads files, dirs, links and long names split across arbitrary chunks', () => {
  const long = `${'d'.repeat(90)}/${'f'.repeat(90)}`;
  const tar = buildTar([
    { path: 'etc/', type: 'dir', mode: 0o750 },
    { path: 'etc/hosts', body: 'x'.repeat(1000), uid: 7, gid: 8 },
    { path: 'link', type: 'symlink', linkname: 'etc/hosts' },
    { path: 'hard', type: 'hardlink', linkname: 'etc/hosts' },
    { path: long, body: 'pax', longName: 'pax' },
    { path: `${long}2`, body: 'gnu', longName: 'gnu' },
    { path: 'cap', body: '', xattrs: { 'security.capability': 'abc' } },
  ]);
  for (const chunk of [1, 7, 512, 100000]) {
    const got = parse(tar, chunk);
    assert.deepEqual(got.map((g) => [g.entry.path, g.entry.type]), [
      ['etc/', 'dir'], ['etc/hosts', 'file'], ['link', 'symlink'], ['hard', 'hardlink'], [long, 'file'], [`${long}2`, 'file'], ['cap', 'file'],
    ]);
    assert.equal(got[0].entry.mode, 0o750);
    assert.equal(got[1].body, 'x'.repeat(1000));
    assert.equal(got[1].entry.uid, 7);
    assert.equal(got[2].entry.linkname, 'etc/hosts');
    assert.equal(got[4].body, 'pax');
    assert.equal(got[5].body, 'gnu');
    assert.equal(got[6].entry.xattrs['security.capability'].toString(), 'abc');
  }
});

test('reads archives written by GNU tar in gnu and pax formats', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'burstlet-tar-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const src = join(dir, 'src');
  const deep = join(src, 'a'.repeat(120), 'b'.repeat(120));
  mkdirSync(deep, { recursive: true });
  writeFileSync(join(deep, 'file'), 'hello');
  symlinkSync(`../${'z'.repeat(150)}`, join(src, 'lnk'));
  for (const format of ['gnu', 'pax', 'ustar']) {
    if (format === 'ustar') continue; // ustar cannot hold these names: GNU tar refuses them
    const tar = execFileSync('tar', ['-c', `--format=${format}`, '-C', src, '.']);
    const got = parse(tar, 4096);
    const file = got.find((g) => g.entry.path.endsWith('/file'));
    assert.equal(file?.body, 'hello', format);
    assert.equal(file?.entry.path, `./${'a'.repeat(120)}/${'b'.repeat(120)}/file`, format);
    assert.equal(got.find((g) => g.entry.type === 'symlink')?.entry.linkname, `../${'z'.repeat(150)}`, format);
  }
});

test('bad checksums, unknown types and truncation are format errors', () => {
  const tar = buildTar([{ path: 'a', body: 'hello' }]);
  const bad = Buffer.from(tar);
  bad[0] = 'b'.charCodeAt(0);
  assert.throws(() => parse(bad), TarFormatError);
  const odd = buildTar([{ path: 'a', body: 'hello' }]);
  odd[156] = 'S'.charCodeAt(0);
  let sum = 0;
  odd.write('        ', 148, 8, 'latin1');
  for (let i = 0; i < 512; i++) sum += odd[i];
  odd.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
  assert.throws(() => parse(odd), /unsupported tar entry type 'S'/);
  assert.throws(() => parse(tar.subarray(0, 514)), /truncated/);
  assert.throws(() => parse(tar.subarray(0, 300)), /truncated/);
});
