// GET for blob bodies over a raw socket that reads straight into recycled pool buffers
// (net/tls `onread`). node:http allocates a fresh buffer for every read, and faulting in
// those pages cost ~0.8 CPU-s per 200 MB pull here, more than hashing it (bench/pull.ts).
// HTTP/1.1 only, one connection per body; Content-Length, chunked and read-to-close bodies;
// redirects followed with Authorization dropped when they leave the host.
import * as net from 'node:net';
import * as tls from 'node:tls';
import { blobBuffers, type BufferPool } from './buffer-pool.ts';
import { redirect, type HttpResponse } from './http-get.ts';

const IDLE_TIMEOUT_MS = 60_000;
const MAX_HEAD = 64 << 10;
const MIN_READ = 16 << 10; // a buffer with less room than this is handed on
const QUEUED = 4; // full buffers waiting for the reader before the socket pauses

/**
 * GET `url`; rejects on connection errors and malformed responses (not on HTTP error
 * statuses). Body chunks are views of `pool` buffers owned by the reader, who may
 * `pool.release()` each once done with it.
 */
export async function blobGet(url: string, headers: Record<string, string>, pool: BufferPool = blobBuffers()): Promise<HttpResponse> {
  let target = new URL(url);
  let sent = { ...headers };
  for (let hop = 0; ; hop++) {
    const res = await RawResponse.open(target, sent, pool);
    const next = redirect(res.status, res.header('location'), target, sent, hop);
    if (!next) return res;
    res.discard();
    ({ target, headers: sent } = next);
  }
}

type Framing = { kind: 'length'; left: number } | { kind: 'chunked' } | { kind: 'close' };

class RawResponse implements HttpResponse {
  status = 0;
  #headers = new Map<string, string>();
  #socket: net.Socket;
  #pool: BufferPool;
  #buf: Buffer;
  #start = 0; // first body byte of #buf not yet queued
  #used = 0; // bytes of #buf filled (after chunked decoding)
  #head = true;
  #framing: Framing = { kind: 'close' };
  #chunked = new ChunkedDecoder();
  #queue: Buffer[] = [];
  #done = false;
  #error: Error | undefined;
  #paused = false;
  #wake: (() => void) | undefined;
  #onHead: { resolve: () => void; reject: (e: Error) => void };

  private constructor(url: URL, pool: BufferPool, onHead: { resolve: () => void; reject: (e: Error) => void }) {
    this.#pool = pool;
    this.#buf = pool.take();
    this.#onHead = onHead;
    const secure = url.protocol === 'https:';
    const port = Number(url.port || (secure ? 443 : 80));
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const onread = { buffer: () => this.#room(), callback: (n: number) => this.#read(n) };
    this.#socket = secure
      ? tls.connect({ host, port, servername: net.isIP(host) ? undefined : host, onread } as tls.ConnectionOptions)
      : net.connect({ host, port, onread });
    this.#socket.setTimeout(IDLE_TIMEOUT_MS, () => this.#socket.destroy(new Error(`no data from ${url.host} for ${IDLE_TIMEOUT_MS / 1000}s`)));
    this.#socket.on('error', (err) => this.#fail(err));
    this.#socket.on('end', () => this.#eof());
    this.#socket.on('close', () => this.#eof());
  }

  static open(url: URL, headers: Record<string, string>, pool: BufferPool): Promise<RawResponse> {
    const lines = [`GET ${url.pathname}${url.search} HTTP/1.1`, `Host: ${url.host}`];
    for (const [k, v] of Object.entries(headers)) {
      if (/[\r\n:]/.test(k) || /[\r\n]/.test(v)) throw new Error(`invalid header ${JSON.stringify(k)}`);
      if (k.toLowerCase() !== 'host' && k.toLowerCase() !== 'connection') lines.push(`${k}: ${v}`);
    }
    lines.push('Connection: close', '', '');
    return new Promise((resolve, reject) => {
      const res: RawResponse = new RawResponse(url, pool, { resolve: () => resolve(res), reject });
      res.#socket.write(lines.join('\r\n'));
    });
  }

  header(name: string): string | undefined {
    return this.#headers.get(name.toLowerCase());
  }

  /** Where the next read lands: the rest of the current buffer (#read keeps room in it). */
  #room(): Buffer {
    return this.#buf.subarray(this.#used);
  }

  /** Queues the current buffer's body bytes and starts a new buffer. */
  #handOn(): void {
    if (this.#used > this.#start) this.#queue.push(this.#buf.subarray(this.#start, this.#used));
    else this.#pool.release(this.#buf);
    this.#buf = this.#pool.take();
    this.#start = this.#used = 0;
  }

  /** `n` bytes arrived at #used; returns false to pause the socket. */
  #read(n: number): boolean {
    if (this.#done || this.#error) return false;
    let from = this.#used;
    this.#used += n;
    try {
      if (this.#head) {
        const end = this.#buf.subarray(0, this.#used).indexOf('\r\n\r\n');
        if (end === -1) {
          // Room stays: a head past MAX_HEAD is refused, and MAX_HEAD + MIN_READ < pool size.
          if (this.#used > MAX_HEAD) throw new Error('response head is too large');
          return true;
        }
        this.#parseHead(this.#buf.toString('latin1', 0, end));
        this.#head = false;
        this.#start = from = end + 4;
        this.#onHead.resolve();
      }
      this.#body(from);
      if (!this.#done && this.#buf.length - this.#used < MIN_READ) this.#handOn();
    } catch (err) {
      this.#socket.destroy(err as Error);
      return false;
    }
    if (this.#queue.length > 0 || this.#done) this.#wakeReader();
    this.#paused = this.#queue.length >= QUEUED;
    return !this.#paused;
  }

  /** Frames the body bytes in #buf[from, #used): decodes chunked, stops at the length. */
  #body(from: number): void {
    const f = this.#framing;
    if (f.kind === 'chunked') {
      const out = this.#chunked.decode(this.#buf, from, this.#used);
      this.#used = out;
      if (this.#chunked.done) this.#finish();
    } else if (f.kind === 'length') {
      const got = this.#used - from;
      if (got >= f.left) {
        this.#used = from + f.left;
        f.left = 0;
        this.#finish();
      } else {
        f.left -= got;
      }
    }
  }

  #parseHead(text: string): void {
    const [statusLine, ...lines] = text.split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
    if (!m) throw new Error(`malformed HTTP status line ${JSON.stringify(statusLine.slice(0, 80))}`);
    this.status = Number(m[1]);
    for (const line of lines) {
      const colon = line.indexOf(':');
      if (colon <= 0) throw new Error('malformed HTTP header line');
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      const prev = this.#headers.get(name);
      this.#headers.set(name, prev === undefined ? value : `${prev}, ${value}`);
    }
    const te = this.header('transfer-encoding');
    const length = this.header('content-length');
    if (te !== undefined) {
      if (te.toLowerCase() !== 'chunked') throw new Error(`unsupported transfer-encoding "${te}"`);
      this.#framing = { kind: 'chunked' };
    } else if (length !== undefined) {
      if (!/^\d+$/.test(length)) throw new Error(`bad content-length "${length}"`);
      this.#framing = { kind: 'length', left: Number(length) };
    }
    if (this.status === 204 || this.status === 304 || (this.status >= 100 && this.status < 200)) this.#framing = { kind: 'length', left: 0 };
  }

  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    if (this.#used > this.#start) this.#queue.push(this.#buf.subarray(this.#start, this.#used));
    this.#start = this.#used;
    this.#socket.destroy(); // Connection: close; nothing more to read
    this.#wakeReader();
  }

  #eof(): void {
    if (this.#done || this.#error) return;
    if (this.#head) return this.#fail(new Error('connection closed before the response head'));
    const f = this.#framing;
    if (f.kind === 'close') return this.#finish();
    this.#fail(new Error(f.kind === 'length' ? `connection closed with ${f.left} body bytes missing` : 'connection closed inside a chunked body'));
  }

  #fail(err: Error): void {
    if (this.#done || this.#error) return;
    this.#error = err;
    this.#onHead.reject(err);
    this.#wakeReader();
  }

  #wakeReader(): void {
    this.#wake?.();
    this.#wake = undefined;
  }

  get body(): AsyncIterable<Buffer> {
    return { [Symbol.asyncIterator]: () => this.#chunks() };
  }

  async *#chunks(): AsyncGenerator<Buffer> {
    try {
      for (;;) {
        const chunk = this.#queue.shift();
        if (chunk) {
          if (this.#paused && this.#queue.length < QUEUED) {
            this.#paused = false;
            this.#socket.resume();
          }
          yield chunk;
          continue;
        }
        if (this.#error) throw this.#error;
        if (this.#done) return;
        await new Promise<void>((r) => (this.#wake = r));
      }
    } finally {
      this.discard();
    }
  }

  async text(): Promise<string> {
    const parts: Buffer[] = [];
    let size = 0;
    for await (const c of this.body) {
      size += c.length;
      if (size > 1 << 20) break; // error bodies are small; never buffer a blob here
      parts.push(Buffer.from(c));
      this.#pool.release(c);
    }
    return Buffer.concat(parts).toString('utf8');
  }

  discard(): void {
    if (!this.#done && !this.#error) this.#error = new Error('response discarded');
    this.#socket.destroy();
    this.#queue = [];
  }
}

/** In-place decoder of a chunked body: moves data bytes down over the framing. */
class ChunkedDecoder {
  done = false;
  #state: 'size' | 'data' | 'crlf' | 'trailer' = 'size';
  #line = '';
  #left = 0;

  /** Decodes buf[from, end); returns the end of the decoded bytes (≤ end), written at `from`. */
  decode(buf: Buffer, from: number, end: number): number {
    let out = from;
    let i = from;
    while (i < end && !this.done) {
      if (this.#state === 'data') {
        const n = Math.min(this.#left, end - i);
        if (out !== i) buf.copyWithin(out, i, i + n);
        out += n;
        i += n;
        this.#left -= n;
        if (this.#left === 0) this.#state = 'crlf';
        continue;
      }
      const byte = buf[i++];
      if (byte !== 0x0a) {
        this.#line += String.fromCharCode(byte);
        if (this.#line.length > 4096) throw new Error('chunked framing line is too long');
        continue;
      }
      const line = this.#line.replace(/\r$/, '');
      this.#line = '';
      if (this.#state === 'crlf') {
        if (line !== '') throw new Error('malformed chunked body');
        this.#state = 'size';
      } else if (this.#state === 'size') {
        const m = /^([0-9a-fA-F]{1,12})(;.*)?$/.exec(line);
        if (!m) throw new Error('malformed chunk size');
        this.#left = parseInt(m[1], 16);
        this.#state = this.#left === 0 ? 'trailer' : 'data';
      } else if (line === '') {
        this.done = true;
      }
    }
    return out;
  }
}
