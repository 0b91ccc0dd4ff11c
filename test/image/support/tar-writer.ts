// Builds tar archives in memory for tests (ustar headers, pax records for long names and
// xattrs, GNU 'L' long names), so hostile layers can be crafted byte by byte.

export interface TarSpec {
  path: string;
  type?: 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo';
  body?: string | Buffer;
  linkname?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  devmajor?: number;
  devminor?: number;
  /** How to carry a path longer than 100 bytes. */
  longName?: 'pax' | 'gnu';
  xattrs?: Record<string, string>;
}

const flags = { file: '0', hardlink: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6' } as const;

function header(name: string, flag: string, size: number, spec: Partial<TarSpec>): Buffer {
  const h = Buffer.alloc(512);
  const put = (off: number, len: number, text: string) => h.write(text, off, len, 'utf8');
  const octal = (off: number, len: number, n: number) => put(off, len, n.toString(8).padStart(len - 1, '0') + '\0');
  put(0, 100, name);
  octal(100, 8, spec.mode ?? (flag === '5' ? 0o755 : 0o644));
  octal(108, 8, spec.uid ?? 0);
  octal(116, 8, spec.gid ?? 0);
  octal(124, 12, size);
  octal(136, 12, 1700000000);
  h.write(flag, 156, 1, 'latin1');
  put(157, 100, spec.linkname ?? '');
  h.write('ustar\0' + '00', 257, 8, 'latin1');
  octal(329, 8, spec.devmajor ?? 0);
  octal(337, 8, spec.devminor ?? 0);
  h.write('        ', 148, 8, 'latin1');
  let sum = 0;
  for (const b of h) sum += b;
  put(148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
  return h;
}

function padded(body: Buffer): Buffer[] {
  const pad = (512 - (body.length % 512)) % 512;
  return [body, Buffer.alloc(pad)];
}

function paxRecords(records: Record<string, string>): Buffer {
  let out = '';
  for (const [k, v] of Object.entries(records)) {
    const rest = ` ${k}=${v}\n`;
    let len = Buffer.byteLength(rest) + 1;
    while (String(len).length + Buffer.byteLength(rest) !== len) len++;
    out += `${len}${rest}`;
  }
  return Buffer.from(out);
}

/** A tar archive (with the two zero end blocks) holding the given entries in order. */
export function buildTar(entries: TarSpec[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const type = e.type ?? 'file';
    const body = Buffer.from(e.body ?? '');
    let name = e.path;
    const pax: Record<string, string> = {};
    for (const [k, v] of Object.entries(e.xattrs ?? {})) pax[`SCHILY.xattr.${k}`] = v;
    if (Buffer.byteLength(name) > 100) {
      if (e.longName === 'gnu') {
        const long = Buffer.from(name + '\0');
        parts.push(header('././@LongLink', 'L', long.length, {}), ...padded(long));
      } else {
        pax.path = name;
      }
      name = name.slice(0, 99);
    }
    if (Object.keys(pax).length) {
      const rec = paxRecords(pax);
      parts.push(header('PaxHeader', 'x', rec.length, {}), ...padded(rec));
    }
    parts.push(header(name, flags[type], type === 'file' ? body.length : 0, e));
    if (type === 'file') parts.push(...padded(body));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** Splits a buffer into small uneven chunks, to exercise the streaming parser's seams. */
export async function* chunked(buf: Buffer, size = 333): AsyncGenerator<Buffer> {
  for (let off = 0; off < buf.length; off += size) yield buf.subarray(off, off + size);
}
