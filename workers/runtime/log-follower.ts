/**
 * Follows a container's CRI log file and hands each record to a sink (PodReporter.log),
 * tagged with the container's restart attempt. Polls while the container runs; `stop`
 * drains what is left. Only whole lines are read; a line being written waits for the next poll.
 * With an offset file the position survives a worker restart (an adopting worker resumes;
 * a crash between send and save may repeat a few lines, never skip one).
 */
import { statSync } from 'node:fs';
import { open, writeFile } from 'node:fs/promises';
import { readSmall } from '../../src/small-files.ts';
import type { LogRecord } from '../../src/schema/streams.ts';
import { parseCri } from '../executor/cri-log-lines.ts';

const CHUNK = 64 * 1024;

export class LogFollower {
  readonly #path: string;
  readonly #attempt: number;
  readonly #sink: (r: LogRecord) => void;
  readonly #offsetPath: string | undefined;
  #offset = -1;
  #timer: NodeJS.Timeout | undefined;
  #busy: Promise<void> = Promise.resolve();

  /**
   * `resume`: read the position saved in `offsetPath` (a container this worker adopted); a
   * fresh container's log starts at 0 and has none (no failed read, and its thrown error, per
   * container).
   */
  constructor(path: string, attempt: number, sink: (r: LogRecord) => void, offsetPath?: string, resume = true) {
    this.#path = path;
    this.#attempt = attempt;
    this.#sink = sink;
    this.#offsetPath = offsetPath;
    if (!resume) this.#offset = 0;
  }

  start(intervalMs = 250): void {
    this.#timer = setInterval(() => void this.poll(), intervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.poll();
  }

  poll(): Promise<void> {
    this.#busy = this.#busy.then(() => this.#read()).catch(() => undefined);
    return this.#busy;
  }

  async #read(): Promise<void> {
    if (this.#offset < 0) {
      let saved: string | undefined;
      try {
        saved = this.#offsetPath ? readSmall(this.#offsetPath) : undefined; // a few bytes (src/small-files.ts)
      } catch {
        saved = undefined;
      }
      this.#offset = Number(saved ?? 0) || 0;
    }
    const before = this.#offset;
    await this.#readFrom();
    if (this.#offsetPath && this.#offset !== before) await writeFile(this.#offsetPath, String(this.#offset));
  }

  async #readFrom(): Promise<void> {
    // Most polls find nothing new: one stat (synchronous: an inode lookup, no pool round trip)
    // instead of open + read + close and a buffer.
    const size = statSync(this.#path, { throwIfNoEntry: false })?.size ?? -1;
    if (size <= this.#offset) return;
    const fh = await open(this.#path, 'r').catch(() => undefined);
    if (!fh) return;
    try {
      const buf = Buffer.allocUnsafe(CHUNK);
      let rest = Buffer.alloc(0);
      for (;;) {
        const { bytesRead } = await fh.read(buf, 0, CHUNK, this.#offset + rest.length);
        if (bytesRead === 0) break;
        const data = Buffer.concat([rest, buf.subarray(0, bytesRead)]);
        const lastNl = data.lastIndexOf(10);
        if (lastNl === -1) {
          rest = data;
          continue;
        }
        for (const text of data.subarray(0, lastNl).toString('utf8').split('\n')) {
          const l = parseCri(text);
          if (l) this.#sink({ ts: l.ts, stream: l.stream, tag: l.tag, line: l.line, attempt: this.#attempt });
        }
        this.#offset += lastNl + 1;
        rest = data.subarray(lastNl + 1);
      }
    } finally {
      await fh.close();
    }
  }
}
