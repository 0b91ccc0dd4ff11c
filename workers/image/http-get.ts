// GET over node:http/https for registry traffic: lighter than fetch for hundreds of MB of
// blob bytes (no web-stream layer), keep-alive connections, redirects followed with the
// Authorization header dropped when the redirect leaves the host (e.g. to object storage).
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/** A response whose body is read at most once. */
export interface HttpResponse {
  readonly status: number;
  header(name: string): string | undefined;
  readonly body: AsyncIterable<Buffer>;
  text(): Promise<string>;
  /** Drops the body without reading it. */
  discard(): void;
}

const httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 32 });
const httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 32 });
const IDLE_TIMEOUT_MS = 60_000;
const MAX_REDIRECTS = 5;

/**
 * The redirect policy of both GET clients: where hop `hop`'s answer (`status`, Location)
 * sends the request next, with which headers — Authorization is dropped when the redirect
 * leaves the host (registry blobs redirect to CDNs) — or undefined to keep this answer.
 */
export function redirect(status: number, location: string | undefined, target: URL, headers: Record<string, string>, hop: number): { target: URL; headers: Record<string, string> } | undefined {
  if (![301, 302, 303, 307, 308].includes(status) || !location || hop >= MAX_REDIRECTS) return undefined;
  const next = new URL(location, target);
  if (next.host === target.host) return { target: next, headers };
  return { target: next, headers: Object.fromEntries(Object.entries(headers).filter(([k]) => k.toLowerCase() !== 'authorization')) };
}

/** GET `url`; rejects on connection errors (not on HTTP error statuses). */
export async function httpGet(url: string, headers: Record<string, string>): Promise<HttpResponse> {
  let target = new URL(url);
  let sent = { ...headers };
  for (let hop = 0; ; hop++) {
    const res = await once(target, sent);
    const next = redirect(res.statusCode ?? 0, res.headers.location, target, sent, hop);
    if (!next) return wrap(res);
    res.resume();
    ({ target, headers: sent } = next);
  }
}

function once(url: URL, headers: Record<string, string>): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const secure = url.protocol === 'https:';
    const req = (secure ? httpsRequest : httpRequest)(url, { method: 'GET', headers, agent: secure ? httpsAgent : httpAgent }, resolve);
    req.setTimeout(IDLE_TIMEOUT_MS, () => req.destroy(new Error(`no data from ${url.host} for ${IDLE_TIMEOUT_MS / 1000}s`)));
    req.on('error', reject);
    req.end();
  });
}

function wrap(res: IncomingMessage): HttpResponse {
  return {
    status: res.statusCode ?? 0,
    header: (name) => {
      const v = res.headers[name.toLowerCase()];
      return Array.isArray(v) ? v.join(', ') : v;
    },
    body: res,
    async text() {
      const parts: Buffer[] = [];
      let size = 0;
      for await (const c of res) {
        size += (c as Buffer).length;
        if (size > 1 << 20) break; // error bodies are small; never buffer a blob here
        parts.push(c as Buffer);
      }
      return Buffer.concat(parts).toString('utf8');
    },
    discard: () => {
      res.resume();
    },
  };
}
