import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { buildKubeletApi } from '../../../provider/api/index.ts';
import { loadKubeletTls } from '../../../provider/api/tls.ts';
import { BurstletError } from '../../../src/errors.ts';
import { MapPods, uniqueKeys } from './support/fixture.ts';

const tempDir = (t: { after(fn: () => void): void }) => {
  const dir = mkdtempSync(join(tmpdir(), 'burstlet-kapi-tlsload-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
};

test('without cert files: a self-signed certificate for the node names and IPs, kept and reused', async (t) => {
  const dir = tempDir(t);
  const tls = await loadKubeletTls({ selfSignedDir: join(dir, 'pki'), hosts: ['burstlet', '127.0.0.1'] });
  const cert = new X509Certificate(tls.cert);
  assert.equal(cert.checkHost('burstlet'), 'burstlet');
  assert.equal(cert.checkIP('127.0.0.1'), '127.0.0.1');
  assert.equal(tls.clientCa, undefined);
  const again = await loadKubeletTls({ selfSignedDir: join(dir, 'pki'), hosts: ['burstlet', '127.0.0.1'] });
  assert.equal(again.cert, tls.cert, 'reused while valid for the same hosts');
  const other = await loadKubeletTls({ selfSignedDir: join(dir, 'pki'), hosts: ['renamed', '127.0.0.1'] });
  assert.notEqual(other.cert, tls.cert, 'made again when the hosts changed');
  // It serves: a client trusting exactly that certificate connects to 127.0.0.1.
  const redis = new Redis('redis://127.0.0.1:1', { lazyConnect: true });
  const app = buildKubeletApi({ nodeName: 'renamed', pods: new MapPods(), redis, keys: uniqueKeys(), tls: other });
  t.after(() => app.close());
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  const body = await new Promise<string>((resolve, reject) => {
    const req = request(`${address}/healthz`, { ca: other.cert, agent: false }, (res) => {
      let b = '';
      res.on('data', (c) => (b += c));
      res.on('end', () => resolve(b));
    });
    req.on('error', reject);
    req.end();
  });
  assert.equal(body, 'ok');
});

test('cert, key and client CA files are read; half a pair or a missing file is CONFIG_INVALID', async (t) => {
  const dir = tempDir(t);
  const made = await loadKubeletTls({ selfSignedDir: join(dir, 'pki'), hosts: ['x'] });
  writeFileSync(join(dir, 'c.pem'), made.cert);
  writeFileSync(join(dir, 'k.pem'), made.key);
  const files = await loadKubeletTls({ certFile: join(dir, 'c.pem'), keyFile: join(dir, 'k.pem'), clientCaFile: join(dir, 'c.pem'), selfSignedDir: join(dir, 'unused'), hosts: [] });
  assert.deepEqual(files, { cert: made.cert, key: made.key, clientCa: made.cert });
  const invalid = (e: unknown) => e instanceof BurstletError && e.code === 'CONFIG_INVALID';
  await assert.rejects(loadKubeletTls({ certFile: join(dir, 'c.pem'), selfSignedDir: dir, hosts: [] }), invalid);
  await assert.rejects(loadKubeletTls({ certFile: join(dir, 'nope.pem'), keyFile: join(dir, 'k.pem'), selfSignedDir: dir, hosts: [] }), invalid);
});
