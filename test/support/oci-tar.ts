// Deterministic tar writer (ustar headers, pax records for long names) for test image layers.
// Every header carries the same mtime and root ownership so a layer's digest depends only on
// its entries: rebuilding an image gives byte-identical blobs.

/** Fixed modification time of every entry (2020-09-13), so digests are stable across builds. */
export const TAR_MTIME = 1_600_000_000;

/** Type of a tar entry, as the typeflag byte spells it. */
export type TarEntryType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo';

/**
 * One entry of a layer tarball. `name` is written exactly as given — hostile images rely on
 * that ('../x', '/abs'), so nothing here normalises or validates paths.
 */
export interface TarEntry {
  name: string;
  type: TarEntryType;
  /** Permission bits (default 0o644 for files, 0o755 for dirs, 0o777 for links). */
  mode?: number;
  uid?: number;
  gid?: number;
  /** File content (files only). */
  data?: Buffer | string;
  /** Size to declare when the content is streamed separately (see tarHeader). */
  size?: number;
  /** Target of a symlink or hardlink. */
  linkname?: string;
  devmajor?: number;
  devminor?: number;
}

const TYPEFLAG: Record<TarEntryType, string> = {
  file: '0', hardlink: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6',
};

const DEFAULT_MODE: Record<TarEntryType, number> = {
  file: 0o644, dir: 0o755, symlink: 0o777, hardlink: 0o644, char: 0o600, block: 0o600, fifo: 0o644,
};

/** Whole tarball (entries + two zero end blocks) in memory. */
export function tarArchive(entries: TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const data = entry.type === 'file' ? toBuffer(entry.data) : Buffer.alloc(0);
    parts.push(tarHeader({ ...entry, size: data.length }), data, tarPadding(data.length));
  }
  parts.push(tarEnd());
  return Buffer.concat(parts);
}

/**
 * Header block(s) of one entry: a pax extended header first when a name does not fit ustar.
 * For streamed content the caller writes `size` bytes of data, then tarPadding(size).
 */
export function tarHeader(entry: TarEntry): Buffer {
  const size = entry.type === 'file' ? (entry.size ?? toBuffer(entry.data).length) : 0;
  const linkname = entry.linkname ?? '';
  const split = splitName(entry.name);
  const pax: Record<string, string> = {};
  if (!split) pax.path = entry.name;
  if (Buffer.byteLength(linkname) > 100) pax.linkpath = linkname;
  const blocks: Buffer[] = [];
  if (Object.keys(pax).length > 0) {
    const body = paxBody(pax);
    blocks.push(ustarBlock({ name: 'PaxHeaders/entry', prefix: '', typeflag: 'x', size: body.length, mode: 0o644 }, entry));
    blocks.push(body, tarPadding(body.length));
  }
  blocks.push(ustarBlock({
    name: split ? split.name : entry.name.slice(0, 100),
    prefix: split ? split.prefix : '',
    typeflag: TYPEFLAG[entry.type],
    size,
    mode: entry.mode ?? DEFAULT_MODE[entry.type],
  }, entry));
  return Buffer.concat(blocks);
}

/** Zero bytes that round `size` up to the 512-byte block. */
export function tarPadding(size: number): Buffer {
  return Buffer.alloc((512 - (size % 512)) % 512);
}

/** The end-of-archive marker: two zero blocks. */
export function tarEnd(): Buffer {
  return Buffer.alloc(1024);
}

interface BlockFields { name: string; prefix: string; typeflag: string; size: number; mode: number }

// Builds one 512-byte ustar header and fills in its checksum.
function ustarBlock(fields: BlockFields, entry: TarEntry): Buffer {
  const block = Buffer.alloc(512);
  block.write(fields.name, 0, 100, 'utf8');
  octal(block, 100, 8, fields.mode);
  octal(block, 108, 8, entry.uid ?? 0);
  octal(block, 116, 8, entry.gid ?? 0);
  octal(block, 124, 12, fields.size);
  octal(block, 136, 12, TAR_MTIME);
  block.write('        ', 148, 8, 'ascii');
  block.write(fields.typeflag, 156, 1, 'ascii');
  if (fields.typeflag !== 'x') block.write((entry.linkname ?? '').slice(0, 100), 157, 100, 'utf8');
  block.write('ustar\u000000', 257, 8, 'ascii');
  block.write(entry.uid ? '' : 'root', 265, 32, 'ascii');
  block.write(entry.gid ? '' : 'root', 297, 32, 'ascii');
  octal(block, 329, 8, entry.devmajor ?? 0);
  octal(block, 337, 8, entry.devminor ?? 0);
  block.write(fields.prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(sum.toString(8).padStart(6, '0') + '\u0000 ', 148, 8, 'ascii');
  return block;
}

// Zero-padded octal number terminated by NUL, as ustar numeric fields are.
function octal(block: Buffer, offset: number, length: number, value: number): void {
  const text = value.toString(8);
  if (text.length > length - 1) throw new Error(`tar: ${value} does not fit a ${length}-byte field`);
  block.write(text.padStart(length - 1, '0') + '\u0000', offset, length, 'ascii');
}

// ustar splits names longer than 100 bytes into prefix/name at a slash; null when impossible.
function splitName(name: string): { prefix: string; name: string } | null {
  if (Buffer.byteLength(name) <= 100) return { prefix: '', name };
  for (let i = name.indexOf('/'); i >= 0; i = name.indexOf('/', i + 1)) {
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(rest) <= 100 && rest !== '') {
      return { prefix, name: rest };
    }
  }
  return null;
}

// pax records are "<len> <key>=<value>\n" where <len> counts the whole record, itself included.
function paxBody(records: Record<string, string>): Buffer {
  let body = '';
  for (const [key, value] of Object.entries(records)) {
    const rest = ` ${key}=${value}\n`;
    let length = Buffer.byteLength(rest) + 1;
    while (String(length).length + Buffer.byteLength(rest) !== length) length++;
    body += `${length}${rest}`;
  }
  return Buffer.from(body, 'utf8');
}

function toBuffer(data: Buffer | string | undefined): Buffer {
  if (data === undefined) return Buffer.alloc(0);
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}
