// A minimal raw HTTP client for tests of the test API server (and of code talking to it):
// one call per request, and a watch reader that waits for events by predicate.
import { request as httpRequest, type ClientRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON when the body is JSON, else the text. */
  body: any;
}

export interface RawOptions {
  token?: string;
  contentType?: string;
  /** Raw body text instead of JSON-encoding `body`. */
  raw?: string;
  /** CA (PEM) to verify an https server with; without it https certificates are not verified. */
  ca?: string;
}

/** http or https request by the URL's scheme. */
export function request(url: URL, options: RequestOptions & { ca?: string }, onResponse: (res: IncomingMessage) => void): ClientRequest {
  if (url.protocol !== 'https:') return httpRequest(url, options, onResponse);
  return httpsRequest(url, { ...options, ca: options.ca, rejectUnauthorized: options.ca !== undefined }, onResponse);
}

/** Sends one request to `base` (http://host:port); JSON-encodes `body` unless opts.raw is given. */
export function call(base: string, method: string, path: string, body?: unknown, opts: RawOptions = {}): Promise<RawResponse> {
  const text = opts.raw ?? (body === undefined ? undefined : JSON.stringify(body));
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
  if (text !== undefined) {
    headers['Content-Type'] = opts.contentType ?? 'application/json';
    headers['Content-Length'] = String(Buffer.byteLength(text));
  }
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, base), { method, headers, ca: opts.ca }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const data = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown = data;
        try {
          parsed = JSON.parse(data);
        } catch {
          // not JSON: keep text
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (text !== undefined) req.write(text);
    req.end();
  });
}

export interface WatchEvent {
  type: string;
  object: any;
}

/** An open watch stream. `events` fills as lines arrive; `ended` resolves when the server closes it. */
export interface RawWatch {
  status: number;
  events: WatchEvent[];
  ended: Promise<void>;
  /** Resolves with the first event (at or after index `from`) matching `pred`; rejects after timeoutMs. */
  waitFor(pred: (e: WatchEvent) => boolean, timeoutMs?: number, from?: number): Promise<WatchEvent>;
  close(): void;
}

/** Opens a watch (path should include ?watch=1 or a /watch/ prefix). Resolves once headers arrive. */
export function openWatch(base: string, path: string, token?: string, ca?: string): Promise<RawWatch> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {};
    const req = request(new URL(path, base), { method: 'GET', headers, ca }, (res) => {
      const events: WatchEvent[] = [];
      const waiters = new Set<() => void>();
      let buffer = '';
      let endResolve: () => void;
      const ended = new Promise<void>((r) => (endResolve = r));
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 1);
          if (line.trim()) events.push(JSON.parse(line));
        }
        for (const w of waiters) w();
      });
      res.on('end', () => endResolve());
      res.on('close', () => endResolve());
      const waitFor = (pred: (e: WatchEvent) => boolean, timeoutMs = 10_000, from = 0) =>
        new Promise<WatchEvent>((ok, fail) => {
          const check = () => {
            const found = events.slice(from).find(pred);
            if (found) {
              waiters.delete(check);
              clearTimeout(timer);
              ok(found);
            }
          };
          const timer = setTimeout(() => {
            waiters.delete(check);
            fail(new Error(`no matching watch event within ${timeoutMs} ms; got ${JSON.stringify(events.map((e) => e.type))}`));
          }, timeoutMs);
          waiters.add(check);
          check();
        });
      resolve({ status: res.statusCode ?? 0, events, ended, waitFor, close: () => req.destroy() });
    });
    req.on('error', reject);
    req.end();
  });
}
