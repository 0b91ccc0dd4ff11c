/**
 * Turns a container's raw stdout/stderr files (written by the runc/crun monitor shell) into
 * CRI log lines appended to the log file. Offsets are persisted next to the raw files so an
 * executor instance that adopts the container after a worker restart resumes where the last
 * one stopped (a crash between append and offset save may repeat a few lines, never lose one).
 * Timestamps are the time the pump read the bytes, at most one poll interval late.
 */
import { appendFile, open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { formatCri, rfc3339Nano, splitCri, type CriLine } from './cri-log-lines.ts';

interface Source { stream: CriLine['stream']; path: string; offset: number; pending: Buffer }

const CHUNK = 256 * 1024;

export class RawLogPump {
  readonly #dir: string;
  readonly #logPath: string;
  readonly #sources: Source[];
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> = Promise.resolve();
  #loaded = false;

  constructor(dir: string, logPath: string) {
    this.#dir = dir;
    this.#logPath = logPath;
    this.#sources = (['stdout', 'stderr'] as const).map((stream) => ({ stream, path: join(dir, `${stream}.raw`), offset: 0, pending: Buffer.alloc(0) }));
  }

  /** Polls every `intervalMs` until stop(). */
  start(intervalMs: number): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.drain(false), intervalMs);
    this.#timer.unref();
  }

  /** Stops polling after a last full drain (`final` also flushes unterminated lines). */
  async stop(final: boolean): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.drain(final);
  }

  /** Converts everything written so far; calls are serialised. */
  drain(final: boolean): Promise<void> {
    this.#running = this.#running.then(() => this.#drain(final)).catch(() => undefined);
    return this.#running;
  }

  async #drain(final: boolean): Promise<void> {
    if (!this.#loaded) await this.#load();
    let out = '';
    for (const s of this.#sources) out += await this.#read(s, final);
    if (out) await appendFile(this.#logPath, out);
    await writeFile(join(this.#dir, 'pump.json'), JSON.stringify(this.#sources.map((s) => s.offset - s.pending.length)));
  }

  async #read(s: Source, final: boolean): Promise<string> {
    const fh = await open(s.path, 'r').catch(() => undefined);
    if (!fh) return '';
    let out = '';
    try {
      const buf = Buffer.alloc(CHUNK);
      for (;;) {
        const { bytesRead } = await fh.read(buf, 0, CHUNK, s.offset);
        if (bytesRead === 0) break;
        s.offset += bytesRead;
        const { lines, rest } = splitCri(s.stream, s.pending, buf.subarray(0, bytesRead), rfc3339Nano());
        s.pending = rest;
        out += lines.map(formatCri).join('');
      }
    } finally {
      await fh.close();
    }
    if (final && s.pending.length) {
      out += formatCri({ ts: rfc3339Nano(), stream: s.stream, tag: 'F', line: s.pending.toString('utf8') });
      s.pending = Buffer.alloc(0);
    }
    return out;
  }

  async #load(): Promise<void> {
    this.#loaded = true;
    const saved = await readFile(join(this.#dir, 'pump.json'), 'utf8').then((t) => JSON.parse(t) as number[], () => [0, 0]);
    this.#sources.forEach((s, i) => (s.offset = saved[i] ?? 0));
  }
}
