// One long-lived `burstlet-runtime serve` per binary, running runtime command lines on
// request (protocol in native/src/cli/cmd-serve.c). A worker drives hundreds of
// create/start/kill/delete calls a second; spawning the runtime for each forks the whole
// Node process (10–50 ms of main thread each at a few hundred MB of RSS), while the small
// server forks itself in well under a millisecond. Same command code, same exit codes and
// output as spawning the binary.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { BurstletError } from '../../src/errors.ts';

/** What one command line printed and how it ended (128+signal when killed). */
export interface ServedResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

interface Pending {
  resolve: (r: ServedResult) => void;
  reject: (e: Error) => void;
}

const servers = new Map<string, RuntimeServer>();

/** The shared server of `binary`, started on first use. */
export function runtimeServer(binary: string): RuntimeServer {
  let s = servers.get(binary);
  if (!s) servers.set(binary, (s = new RuntimeServer(binary)));
  return s;
}

/**
 * A client of one `serve` process. Calls may overlap freely. When the process dies, calls in
 * flight fail with RUNTIME_FAILED (their commands may or may not have run, as with a killed
 * spawn) and the next call starts a new one. The process does not keep Node alive when idle.
 */
export class RuntimeServer {
  private child: ChildProcess | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private inbuf: Buffer = Buffer.alloc(0);
  readonly binary: string;

  constructor(binary: string) {
    this.binary = binary;
  }

  /** Runs `burstlet-runtime <args...>` in the server. */
  run(args: readonly string[]): Promise<ServedResult> {
    if (args.some((a) => a.includes('\0'))) {
      return Promise.reject(new BurstletError('INVALID_INPUT', 'runtime arguments cannot contain NUL bytes'));
    }
    const child = this.ensure();
    const id = this.nextId;
    this.nextId = (this.nextId + 1) >>> 0 || 1;
    const body = Buffer.from(args.map((a) => `${a}\0`).join(''), 'utf8');
    const head = Buffer.alloc(8);
    head.writeUInt32LE(body.length + 4, 0);
    head.writeUInt32LE(id, 4);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.setRef(true);
      // Requests of one tick go out in one write (a syscall is dear on a busy worker).
      const stdin = child.stdin!;
      if (!stdin.writableCorked) {
        stdin.cork();
        process.nextTick(() => stdin.uncork());
      }
      stdin.write(Buffer.concat([head, body]));
    });
  }

  /** Stops the server (calls in flight still get their answers first). */
  close(): void {
    this.child?.stdin?.end();
  }

  private ensure(): ChildProcess {
    if (this.child) return this.child;
    const child = spawn(this.binary, ['serve'], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.child = child;
    this.inbuf = Buffer.alloc(0);
    child.stdout!.on('data', (chunk: Buffer) => this.onData(chunk));
    child.stdin!.on('error', () => {}); // a dead server is reported through 'exit'
    const gone = (why: string) => {
      if (this.child !== child) return;
      this.child = undefined;
      const err = new BurstletError('RUNTIME_FAILED', `${this.binary} serve ${why}`);
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    child.once('error', (e) => gone(`could not run: ${e.message}`));
    child.once('exit', (code, signal) => gone(`exited (${signal ?? code})`));
    this.setRef(false);
    return child;
  }

  private onData(chunk: Buffer): void {
    this.inbuf = this.inbuf.length ? Buffer.concat([this.inbuf, chunk]) : chunk;
    let off = 0;
    while (this.inbuf.length - off >= 4) {
      const len = this.inbuf.readUInt32LE(off);
      if (this.inbuf.length - off - 4 < len) break;
      const frame = this.inbuf.subarray(off + 4, off + 4 + len);
      off += 4 + len;
      const id = frame.readUInt32LE(0);
      const exitCode = frame.readInt32LE(4);
      const outLen = frame.readUInt32LE(8);
      const p = this.pending.get(id);
      if (!p) continue;
      this.pending.delete(id);
      p.resolve({
        exitCode,
        stdout: frame.toString('utf8', 12, 12 + outLen),
        stderr: frame.toString('utf8', 12 + outLen),
      });
    }
    this.inbuf = this.inbuf.subarray(off);
    if (this.pending.size === 0) this.setRef(false);
  }

  /** Keeps Node alive only while answers are awaited. */
  private setRef(on: boolean): void {
    const c = this.child;
    if (!c) return;
    for (const s of [c.stdout, c.stdin] as Socket[]) {
      if (on) s.ref();
      else s.unref();
    }
    if (on) c.ref();
    else c.unref();
  }
}
