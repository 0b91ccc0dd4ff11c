// Reading the CRI-format container logs written by burstlet-runtime's monitor:
//   <RFC3339Nano> stdout|stderr F|P <text>
import { readFile } from 'node:fs/promises';

/** One log record; `partial` records continue in the next record of the same stream. */
export interface CriLogRecord {
  time: string;
  stream: 'stdout' | 'stderr';
  partial: boolean;
  text: string;
}

/** Parses CRI log text; lines that do not match the format are skipped. */
export function parseCriLog(text: string): CriLogRecord[] {
  const records: CriLogRecord[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\S+) (stdout|stderr) ([FP]) (.*)$/s.exec(line);
    if (m) records.push({ time: m[1], stream: m[2] as 'stdout' | 'stderr', partial: m[3] === 'P', text: m[4] });
  }
  return records;
}

/** Joins partial records: the logical lines of one stream, or of both interleaved. */
export function criLogLines(records: CriLogRecord[], stream?: 'stdout' | 'stderr'): string[] {
  const lines: string[] = [];
  const pending = { stdout: '', stderr: '' };
  for (const r of records) {
    if (stream && r.stream !== stream) continue;
    pending[r.stream] += r.text;
    if (!r.partial) {
      lines.push(pending[r.stream]);
      pending[r.stream] = '';
    }
  }
  return lines;
}

/** Reads and parses a CRI log file. */
export async function readCriLog(path: string): Promise<CriLogRecord[]> {
  return parseCriLog(await readFile(path, 'utf8'));
}
