// The raw-socket blob GET against a real node:http server: every body framing, chunk
// boundaries anywhere, redirects, and refilled pool buffers never corrupting a body.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { blobGet } from '../../workers/image/blob-get.ts';
import { BufferPool } from '../../workers/image/buffer-pool.ts';

const body = randomBytes(3 * 1024 * 1024 + 12345);
const digest = createHash('sha256').update(body).digest('hex');
let base = '';
const seen: { url: string; authorization?: string }[] = [];
const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
  seen.push({ url: req.url!, authorization: req.headers.authorization });
  const write = async (framing: 'length' | 'chunked' | 'close') => {
    if (framing === 'length') res.setHeader('content-length', body.length);
    if (framing === 'close') res.setHeader('connection', 'close');
    res.writeHead(200, framing === 'chunked' ? { 'transfer-encoding': 'chunked' } : {});
    // Odd-sized writes put chunk framing at arbitrary offsets of the client's reads.
    for (let off = 0, n = 1; off < body.length; off += n, n = (n * 7 + 13) % 200_000 + 1) {
      if (!res.write(body.subarray(off, off + n))) await new Promise((r) => res.once('drain', r));
    }
    if (framing === 'close') res.socket?.end();
    res.end();
  };
  if (req.url === '/length') return write('length');
  if (req.url === '/chunked') return write('chunked');
  if (req.url === '/close') {
    // No length, not chunked: the body ends with the connection.
    res.useChunkedEncodingByDefault = false;
    res.shouldKeepAlive = false;
    return write('close');
  }
  if (req.url === '/redirect') return res.writeHead(307, { location: `${base.replace('127.0.0.1', 'localhost')}/length` }).end();
  if (req.url === '/cut') {
    res.writeHead(200, { 'content-length': body.length });
    res.write(body.subarray(0, 1000), () => res.destroy());
    return;
  }
  res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"BLOB_UNKNOWN"}]}');
});

before(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((r) => server.close(() => r())));

/** Reads a body, releasing every chunk at once so its buffer is refilled by later reads. */
async function drain(path: string, headers: Record<string, string> = {}): Promise<{ status: number; hash: string; size: number }> {
  const pool = new BufferPool(256 << 10, 4);
  const res = await blobGet(`${base}${path}`, headers, pool);
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of res.body) {
    hash.update(chunk);
    size += chunk.length;
    pool.release(chunk);
  }
  return { status: res.status, hash: hash.digest('hex'), size };
}

test('content-length, chunked and read-to-close bodies arrive whole through recycled buffers', async () => {
  for (const path of ['/length', '/chunked', '/close']) {
    const got = await drain(path);
    assert.equal(got.status, 200, path);
    assert.equal(got.size, body.length, path);
    assert.equal(got.hash, digest, path);
  }
});

test('a slow reader pauses the socket and still gets every byte', async () => {
  const pool = new BufferPool(256 << 10, 4);
  const res = await blobGet(`${base}/chunked`, {}, pool);
  const hash = createHash('sha256');
  let most = 0;
  for await (const chunk of res.body) {
    await new Promise((r) => setTimeout(r, 5)); // the server outruns this reader
    hash.update(chunk);
    most = Math.max(most, chunk.length);
    pool.release(chunk);
  }
  assert.equal(hash.digest('hex'), digest);
  assert.ok(most <= 256 << 10);
});

test('a redirect to another host is followed without the Authorization header', async () => {
  seen.length = 0;
  const got = await drain('/redirect', { authorization: 'Bearer secret' });
  assert.equal(got.hash, digest);
  assert.deepEqual(seen.map((s) => [s.url, s.authorization]), [['/redirect', 'Bearer secret'], ['/length', undefined]]);
});

test('a body cut short is an error, an error status keeps its body', async () => {
  await assert.rejects(drain('/cut'), /connection closed with \d+ body bytes missing/);
  const res = await blobGet(`${base}/missing`, {});
  assert.equal(res.status, 404);
  assert.equal(res.header('Content-Type'), 'application/json');
  assert.match(await res.text(), /BLOB_UNKNOWN/);
});

test('header values that would split the request are refused', async () => {
  await assert.rejects(blobGet(`${base}/length`, { range: 'bytes=0-\r\nx-evil: 1' }), /invalid header/);
});
