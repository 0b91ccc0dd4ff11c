// A counting, fault-injecting HTTP proxy in front of a test registry: counts requests and
// body bytes per path, and can flip a byte of a blob or cut a blob transfer mid-way, so
// tests can prove verification, resume and single-flight against the real registry.
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { freePort } from '../../support/ports.ts';

export interface ProxyLog {
  method: string;
  path: string;
  status: number;
  bytes: number;
  range?: string;
}

/** A running proxy; faults apply to the next matching blob request only. */
export interface RegistryProxy {
  /** '127.0.0.1:PORT', used in image references. */
  host: string;
  log: ProxyLog[];
  /** Flip one byte at `offset` of the body of the next GET whose path ends with `suffix`. */
  corruptNext(suffix: string, offset: number): void;
  /** Close the connection after `bytes` body bytes of the next GET whose path ends with `suffix`. */
  cutNext(suffix: string, bytes: number): void;
  /** Body bytes served for paths containing `part` (GET only). */
  bytesFor(part: string): number;
  /** GET requests for blob paths, by digest. */
  blobGets(): Map<string, number>;
  stop(): Promise<void>;
}

export async function startRegistryProxy(upstream: string): Promise<RegistryProxy> {
  const up = new URL(upstream);
  const log: ProxyLog[] = [];
  const faults: { suffix: string; kind: 'corrupt' | 'cut'; at: number }[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const fault = req.method === 'GET' ? faults.findIndex((f) => req.url!.endsWith(f.suffix)) : -1;
    const active = fault >= 0 ? faults.splice(fault, 1)[0] : undefined;
    const entry: ProxyLog = { method: req.method!, path: req.url!, status: 0, bytes: 0, range: req.headers.range };
    log.push(entry);
    const headers = { ...req.headers, host: up.host };
    const out = request({ host: up.hostname, port: up.port, method: req.method, path: req.url, headers }, (upRes) => {
      entry.status = upRes.statusCode!;
      const h = { ...upRes.headers };
      // Redirect targets must come back through the proxy too.
      if (h.location?.startsWith(upstream)) h.location = h.location.slice(upstream.length);
      res.writeHead(upRes.statusCode!, h);
      upRes.on('data', (chunk: Buffer) => {
        let data = chunk;
        if (active?.kind === 'corrupt' && active.at >= entry.bytes && active.at < entry.bytes + chunk.length) {
          data = Buffer.from(chunk);
          data[active.at - entry.bytes] ^= 0xff;
        }
        if (active?.kind === 'cut' && entry.bytes + data.length >= active.at) {
          const keep = data.subarray(0, active.at - entry.bytes);
          entry.bytes += keep.length;
          // Give the client time to take the bytes before the connection dies, so the cut
          // is where the test put it and not lost in the client's buffers.
          res.write(keep, () => setTimeout(() => res.socket?.destroy(), 300));
          upRes.destroy();
          return;
        }
        entry.bytes += data.length;
        res.write(data);
      });
      upRes.on('end', () => res.end());
    });
    out.on('error', () => res.socket?.destroy());
    req.pipe(out);
  });
  const port = await freePort();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    host: `127.0.0.1:${port}`,
    log,
    corruptNext: (suffix, offset) => faults.push({ suffix, kind: 'corrupt', at: offset }),
    cutNext: (suffix, bytes) => faults.push({ suffix, kind: 'cut', at: bytes }),
    bytesFor: (part) => log.filter((l) => l.method === 'GET' && l.path.includes(part)).reduce((n, l) => n + l.bytes, 0),
    blobGets() {
      const out = new Map<string, number>();
      for (const l of log) {
        const m = /\/blobs\/(sha256:[a-f0-9]{64})$/.exec(l.path);
        if (m && l.method === 'GET') out.set(m[1], (out.get(m[1]) ?? 0) + 1);
      }
      return out;
    },
    stop: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
