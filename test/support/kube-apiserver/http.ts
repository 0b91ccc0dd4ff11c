// Reading request bodies and writing JSON responses and Status errors.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { ApiError, badRequest, internalError, unsupportedMediaType, type StatusObject } from './status.ts';

// Body media types this server decodes (no protobuf, no CBOR).
const ACCEPTED_TYPES = ['application/json', 'application/yaml', 'application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml'];

/** Largest body accepted (the apiserver limits requests to 3 MiB). */
const MAX_BODY = 3 * 1024 * 1024;

export async function readRaw(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new ApiError(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The media type of a request without parameters ("application/json"). */
export function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
}

/** Decodes a JSON (or YAML, as kubectl may send) body; undefined for an empty body. */
export function decodeBody(raw: string, type: string): unknown {
  if (raw.trim() === '') return undefined;
  if (type && !ACCEPTED_TYPES.includes(type)) throw unsupportedMediaType(type);
  try {
    if (type === 'application/yaml' || type === 'application/apply-patch+yaml') return parseYaml(raw);
    return JSON.parse(raw);
  } catch (err) {
    throw badRequest(`couldn't get version/kind; json parse error: ${(err as Error).message}`);
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-cache, private' });
  res.end(text);
}

/** Writes any thrown value as a Status (unknown errors become 500 InternalError). */
export function sendError(res: ServerResponse, err: unknown): void {
  const status: StatusObject = err instanceof ApiError ? err.status : internalError(err instanceof Error ? err.message : String(err)).status;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, status.code, status);
}
