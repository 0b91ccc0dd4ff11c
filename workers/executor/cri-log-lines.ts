/**
 * CRI log lines (`<RFC3339Nano> <stdout|stderr> <F|P> <text>`): formatting with long lines
 * split into P(artial) parts, and parsing back. Shared by the raw-output pump of the
 * runc/crun executors and the runtime's log follower.
 */
export const MAX_LINE_BYTES = 16 * 1024;

export interface CriLine {
  ts: string;
  stream: 'stdout' | 'stderr';
  tag: 'F' | 'P';
  line: string;
}

/** RFC 3339 with nanoseconds in UTC (Date gives ms; the rest pads from hrtime). */
export function rfc3339Nano(ms: number = Date.now()): string {
  const iso = new Date(ms).toISOString(); // 2026-01-01T00:00:00.123Z
  const nanos = String(process.hrtime.bigint() % 1_000_000n).padStart(6, '0');
  return `${iso.slice(0, 23)}${nanos}Z`;
}

/**
 * Splits `chunk` (appended to `pending`) into CRI lines. Complete lines are F; a line
 * longer than MAX_LINE_BYTES is cut into P parts. Returns the lines and the unfinished rest.
 */
export function splitCri(stream: CriLine['stream'], pending: Buffer, chunk: Buffer, ts: string): { lines: CriLine[]; rest: Buffer } {
  let buf = pending.length ? Buffer.concat([pending, chunk]) : chunk;
  const lines: CriLine[] = [];
  for (;;) {
    const nl = buf.indexOf(10);
    if (nl !== -1 && nl <= MAX_LINE_BYTES) {
      lines.push({ ts, stream, tag: 'F', line: buf.subarray(0, nl).toString('utf8') });
      buf = buf.subarray(nl + 1);
    } else if (buf.length > MAX_LINE_BYTES) {
      lines.push({ ts, stream, tag: 'P', line: buf.subarray(0, MAX_LINE_BYTES).toString('utf8') });
      buf = buf.subarray(MAX_LINE_BYTES);
    } else {
      return { lines, rest: Buffer.from(buf) };
    }
  }
}

export const formatCri = (l: CriLine): string => `${l.ts} ${l.stream} ${l.tag} ${l.line}\n`;

/** Parses one CRI log line (without the newline); undefined when it is not one. */
export function parseCri(text: string): CriLine | undefined {
  const m = /^(\S+) (stdout|stderr) ([FP]) (.*)$/s.exec(text);
  if (!m) return undefined;
  return { ts: m[1], stream: m[2] as CriLine['stream'], tag: m[3] as CriLine['tag'], line: m[4] };
}
