// A streaming tar reader (ustar, pax extended headers, GNU long names) that pushes entries
// to a synchronous handler, so an extractor can use fast synchronous fs calls and the
// caller gets backpressure for free by awaiting each chunk.

/** Entry kinds a layer may carry; anything else is refused by the reader. */
export type TarEntryType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo';

/** One tar header after pax/GNU overrides are applied. Plain data. */
export interface TarEntry {
  /** Path exactly as in the archive (not normalised, not trusted). */
  readonly path: string;
  readonly type: TarEntryType;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** Seconds since the epoch. */
  readonly mtime: number;
  /** Body bytes that follow (only files have a body). */
  readonly size: number;
  /** Symlink target or hardlink source, untrusted. */
  readonly linkname: string;
  readonly devmajor: number;
  readonly devminor: number;
  /** Extended attributes from pax `SCHILY.xattr.*` records. */
  readonly xattrs: Readonly<Record<string, Buffer>>;
}

/**
 * Receives the archive in order: entry(), then data() zero or more times, then entryEnd().
 * Throwing from any of them aborts the parse (the error comes out of TarReader.push()).
 */
export interface TarHandler {
  entry(entry: TarEntry): void;
  data(chunk: Buffer): void;
  entryEnd(): void;
}

const BLOCK = 512;
const META_LIMIT = 1 << 20; // pax / long-name records larger than this are not honest

const typeFlags: Record<string, TarEntryType> = {
  '0': 'file', '\0': 'file', '7': 'file', '1': 'hardlink', '2': 'symlink', '3': 'char', '4': 'block', '5': 'dir', '6': 'fifo',
};

/** Thrown for archives that are not well-formed tar; callers add image/layer context. */
export class TarFormatError extends Error {
  override name = 'TarFormatError';
}

/** Incremental parser: feed it chunks with push(), then call end(). Not reusable. */
export class TarReader {
  #handler: TarHandler;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #bodyLeft = 0;
  #padLeft = 0;
  #meta: { kind: string; parts: Buffer[] } | undefined;
  #pax: Record<string, string> = {};
  #globalPax: Record<string, string> = {};
  #longName: string | undefined;
  #longLink: string | undefined;
  #zeroBlocks = 0;
  #done = false;
  #inEntry = false;

  constructor(handler: TarHandler) {
    this.#handler = handler;
  }

  /** True once the end-of-archive marker was read. */
  get done(): boolean {
    return this.#done;
  }

  push(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length && !this.#done) {
      if (this.#bodyLeft > 0) {
        const n = Math.min(this.#bodyLeft, chunk.length - off);
        this.#body(chunk.subarray(off, off + n));
        off += n;
        continue;
      }
      if (this.#padLeft > 0) {
        const n = Math.min(this.#padLeft, chunk.length - off);
        this.#padLeft -= n;
        off += n;
        continue;
      }
      const need = BLOCK - this.#pendingBytes;
      const take = Math.min(need, chunk.length - off);
      this.#pending.push(chunk.subarray(off, off + take));
      this.#pendingBytes += take;
      off += take;
      if (this.#pendingBytes === BLOCK) {
        const block = this.#pending.length === 1 ? this.#pending[0] : Buffer.concat(this.#pending);
        this.#pending = [];
        this.#pendingBytes = 0;
        this.#header(block);
      }
    }
  }

  /** Checks the archive ended cleanly (a truncated archive is an error). */
  end(): void {
    if (this.#done) return;
    if (this.#bodyLeft > 0 || this.#padLeft > 0 || this.#pendingBytes > 0 || this.#meta) throw new TarFormatError('archive is truncated');
    if (this.#inEntry) this.#finishEntry();
    // Some writers omit the two zero blocks; a clean cut at a header boundary is accepted.
    this.#done = true;
  }

  #body(part: Buffer): void {
    this.#bodyLeft -= part.length;
    if (this.#meta) {
      this.#meta.parts.push(part);
      if (this.#bodyLeft === 0) this.#finishMeta();
    } else {
      this.#handler.data(part);
      if (this.#bodyLeft === 0) this.#finishEntry();
    }
  }

  #finishEntry(): void {
    this.#inEntry = false;
    this.#handler.entryEnd();
  }

  #header(block: Buffer): void {
    if (isZero(block)) {
      if (++this.#zeroBlocks === 2) this.#done = true;
      return;
    }
    this.#zeroBlocks = 0;
    verifyChecksum(block);
    const flag = String.fromCharCode(block[156]);
    const size = readNumber(block, 124, 12);
    if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
      if (size > META_LIMIT) throw new TarFormatError(`metadata record of ${size} bytes is too large`);
      this.#meta = { kind: flag, parts: [] };
      this.#bodyLeft = size;
      this.#padLeft = (BLOCK - (size % BLOCK)) % BLOCK;
      if (size === 0) this.#finishMeta();
      return;
    }
    const type = typeFlags[flag];
    if (!type) throw new TarFormatError(`unsupported tar entry type '${flag}' for "${readString(block, 0, 100)}"`);
    this.#emit(block, type, size);
  }

  #emit(block: Buffer, type: TarEntryType, headerSize: number): void {
    const pax = { ...this.#globalPax, ...this.#pax };
    let path = readString(block, 0, 100);
    const magic = block.toString('latin1', 257, 262);
    if (magic === 'ustar') {
      const prefix = readString(block, 345, 155);
      if (prefix && block.toString('latin1', 257, 263) === 'ustar\0') path = `${prefix}/${path}`;
    }
    if (this.#longName !== undefined) path = this.#longName;
    if (pax.path !== undefined) path = pax.path;
    let linkname = readString(block, 157, 100);
    if (this.#longLink !== undefined) linkname = this.#longLink;
    if (pax.linkpath !== undefined) linkname = pax.linkpath;
    const size = pax.size !== undefined ? paxNumber(pax.size, 'size') : headerSize;
    const xattrs: Record<string, Buffer> = {};
    for (const [k, v] of Object.entries(pax)) if (k.startsWith('SCHILY.xattr.')) xattrs[k.slice(13)] = Buffer.from(v, 'latin1');
    const entry: TarEntry = {
      path, type, linkname, xattrs,
      mode: readNumber(block, 100, 8) & 0o7777,
      uid: pax.uid !== undefined ? paxNumber(pax.uid, 'uid') : readNumber(block, 108, 8),
      gid: pax.gid !== undefined ? paxNumber(pax.gid, 'gid') : readNumber(block, 116, 8),
      mtime: pax.mtime !== undefined ? Math.floor(Number(pax.mtime)) || 0 : readNumber(block, 136, 12),
      size: type === 'file' ? size : 0,
      devmajor: readNumber(block, 329, 8),
      devminor: readNumber(block, 337, 8),
    };
    this.#pax = {};
    this.#longName = undefined;
    this.#longLink = undefined;
    // Like Go's archive/tar: only regular files have a body; other types' size is ignored.
    this.#bodyLeft = type === 'file' ? size : 0;
    this.#padLeft = type === 'file' ? (BLOCK - (size % BLOCK)) % BLOCK : 0;
    this.#inEntry = true;
    this.#handler.entry(entry);
    if (this.#bodyLeft === 0) this.#finishEntry();
  }

  #finishMeta(): void {
    const meta = this.#meta!;
    this.#meta = undefined;
    const buf = Buffer.concat(meta.parts);
    if (meta.kind === 'L') this.#longName = cString(buf);
    else if (meta.kind === 'K') this.#longLink = cString(buf);
    else Object.assign(meta.kind === 'g' ? this.#globalPax : this.#pax, parsePax(buf));
  }
}

function isZero(block: Buffer): boolean {
  for (let i = 0; i < BLOCK; i++) if (block[i] !== 0) return false;
  return true;
}

function verifyChecksum(block: Buffer): void {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : block[i];
  const stored = readNumber(block, 148, 8);
  if (stored !== sum) throw new TarFormatError(`bad tar header checksum (stored ${stored}, computed ${sum})`);
}

function cString(buf: Buffer): string {
  const nul = buf.indexOf(0);
  return buf.toString('utf8', 0, nul === -1 ? buf.length : nul);
}

function readString(block: Buffer, off: number, len: number): string {
  return cString(block.subarray(off, off + len));
}

/** Octal, or GNU base-256 when the high bit of the first byte is set. */
function readNumber(block: Buffer, off: number, len: number): number {
  if (block[off] & 0x80) {
    if (block[off] & 0x40) throw new TarFormatError('negative number in tar header');
    let value = block[off] & 0x3f;
    for (let i = 1; i < len; i++) value = value * 256 + block[off + i];
    if (!Number.isSafeInteger(value)) throw new TarFormatError('number in tar header is too large');
    return value;
  }
  const text = block.toString('latin1', off, off + len).replace(/[\0 ]+$/, '').trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw new TarFormatError(`bad octal number "${text}" in tar header`);
  return parseInt(text, 8);
}

function paxNumber(text: string, key: string): number {
  if (!/^\d+$/.test(text)) throw new TarFormatError(`bad pax ${key} "${text}"`);
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new TarFormatError(`pax ${key} is too large`);
  return value;
}

/** Parses `"<len> <key>=<value>\n"` records; lengths count bytes, values are UTF-8. */
function parsePax(buf: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let off = 0;
  while (off < buf.length) {
    const space = buf.indexOf(0x20, off);
    if (space === -1) break;
    const len = Number(buf.toString('latin1', off, space));
    if (!Number.isSafeInteger(len) || len <= space - off || off + len > buf.length) throw new TarFormatError('malformed pax record');
    const record = buf.subarray(space + 1, off + len - 1);
    const eq = record.indexOf(0x3d);
    if (eq === -1) throw new TarFormatError('malformed pax record (no "=")');
    const key = record.toString('utf8', 0, eq);
    // xattr values are binary; keep their bytes intact through latin1.
    out[key] = key.startsWith('SCHILY.xattr.') ? record.toString('latin1', eq + 1) : record.toString('utf8', eq + 1);
    off += len;
  }
  return out;
}
