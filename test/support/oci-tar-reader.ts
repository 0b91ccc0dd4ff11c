// A tiny tar reader for tests: lists the entries of an uncompressed layer exactly as written,
// so tests can prove what a (possibly hostile) layer contains without unpacking it anywhere.
import type { TarEntryType } from './oci-tar.ts';

/** One entry as read back; `name`/`linkname` are raw (pax values win over ustar fields). */
export interface TarListing {
  name: string;
  type: TarEntryType | 'other';
  mode: number;
  uid: number;
  gid: number;
  size: number;
  linkname: string;
  devmajor: number;
  devminor: number;
  /** Content of a file entry (empty for other types). */
  data: Buffer;
}

const TYPES: Record<string, TarEntryType> = {
  '0': 'file', '\u0000': 'file', '1': 'hardlink', '2': 'symlink', '3': 'char', '4': 'block', '5': 'dir', '6': 'fifo',
};

/** Lists every entry of a whole tarball; throws on a bad checksum or a truncated archive. */
export function listTar(tar: Buffer): TarListing[] {
  const entries: TarListing[] = [];
  let pax: Record<string, string> = {};
  let offset = 0;
  while (offset + 512 <= tar.length) {
    const block = tar.subarray(offset, offset + 512);
    if (block.every((b) => b === 0)) return entries;
    const header = parseTarHeader(block);
    const dataStart = offset + 512;
    const data = tar.subarray(dataStart, dataStart + header.size);
    if (data.length !== header.size) throw new Error(`tar: entry ${header.name} is truncated`);
    offset = dataStart + Math.ceil(header.size / 512) * 512;
    const flag = String.fromCharCode(block[156]);
    if (flag === 'x') {
      pax = parsePax(data);
      continue;
    }
    entries.push({
      ...header,
      name: pax.path ?? header.name,
      linkname: pax.linkpath ?? header.linkname,
      data: header.type === 'file' ? Buffer.from(data) : Buffer.alloc(0),
    });
    pax = {};
  }
  throw new Error('tar: archive ends without the end-of-archive blocks');
}

/** Decodes one 512-byte ustar header (no pax handling); throws on a checksum mismatch. */
export function parseTarHeader(block: Buffer): Omit<TarListing, 'data'> {
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : block[i];
  const stored = readOctal(block, 148, 8);
  if (stored !== sum) throw new Error(`tar: header checksum ${stored} != ${sum}`);
  const prefix = readString(block, 345, 155);
  const name = readString(block, 0, 100);
  return {
    name: prefix ? `${prefix}/${name}` : name,
    type: TYPES[String.fromCharCode(block[156])] ?? 'other',
    mode: readOctal(block, 100, 8),
    uid: readOctal(block, 108, 8),
    gid: readOctal(block, 116, 8),
    size: readOctal(block, 124, 12),
    linkname: readString(block, 157, 100),
    devmajor: readOctal(block, 329, 8),
    devminor: readOctal(block, 337, 8),
  };
}

function readString(block: Buffer, offset: number, length: number): string {
  const field = block.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return field.subarray(0, end < 0 ? length : end).toString('utf8');
}

function readOctal(block: Buffer, offset: number, length: number): number {
  const text = readString(block, offset, length).trim();
  return text === '' ? 0 : parseInt(text, 8);
}

function parsePax(data: Buffer): Record<string, string> {
  const records: Record<string, string> = {};
  let offset = 0;
  while (offset < data.length) {
    const space = data.indexOf(0x20, offset);
    const length = parseInt(data.subarray(offset, space).toString('ascii'), 10);
    const record = data.subarray(space + 1, offset + length - 1).toString('utf8');
    const eq = record.indexOf('=');
    records[record.slice(0, eq)] = record.slice(eq + 1);
    offset += length;
  }
  return records;
}
