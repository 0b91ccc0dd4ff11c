import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import type { RequestAuthorizer } from '../../../provider/api/deps.ts';
import { buildKubeletApi } from '../../../provider/api/index.ts';
import { createProviderMetrics } from '../../../provider/metrics.ts';
import { startRedis, type RedisServer } from '../../support/redis.ts';
import { MapPods, pod, uniqueKeys } from './support/fixture.ts';

let server: RedisServer;
let redis: Redis;
before(async () => {
  server = await startRedis();
  redis = new Redis(server.url, { maxRetriesPerRequest: null });
});
after(async () => {
  redis.disconnect();
  await server.stop();
});

const base = (extra: Partial<Parameters<typeof buildKubeletApi>[0]> = {}) =>
  buildKubeletApi({ nodeName: 'virt', pods: new MapPods(pod({ name: 'a' }), pod({ name: 'b', namespace: 'kube-system' })), redis, keys: uniqueKeys(), ...extra });

test('/healthz answers ok; /pods is a v1.PodList of the node pods (real redis)', async (t) => {
  const app = base();
  t.after(() => app.close());
  const health = await app.inject({ url: '/healthz' });
  assert.equal(health.statusCode, 200);
  assert.equal(health.body, 'ok');
  const list = (await app.inject({ url: '/pods' })).json();
  assert.equal(list.kind, 'PodList');
  assert.equal(list.apiVersion, 'v1');
  assert.deepEqual(list.items.map((p: { metadata: { namespace: string; name: string } }) => `${p.metadata.namespace}/${p.metadata.name}`), ['default/a', 'kube-system/b']);
});

test('attach and portForward answer 501 with a Status; unknown paths 404 with a Status (real redis)', async (t) => {
  const app = base();
  t.after(() => app.close());
  for (const url of ['/attach/default/a/main?stdout=1', '/attach/default/a/uid-a/main', '/portForward/default/a?port=80']) {
    const res = await app.inject({ url, headers: { accept: 'application/json' } });
    assert.equal(res.statusCode, 501, url);
    assert.equal(res.json().kind, 'Status');
    assert.match(res.json().message, /not supported by the burstlet provider/);
  }
  const missing = await app.inject({ url: '/runningpods/', headers: { accept: 'application/json' } });
  assert.equal(missing.statusCode, 404);
  assert.equal(missing.json().reason, 'NotFound');
});

test('authorizer hook: kubelet attributes per path, 401 without a good token, 403 when not allowed (real redis)', async (t) => {
  const seen: string[] = [];
  const authorize: RequestAuthorizer = async ({ token, attributes: a }) => {
    seen.push(`${a.verb} ${a.resource}/${a.subresource} ${a.name} ${a.path}`);
    if (token === undefined || token === 'bad') return 'unauthenticated';
    return token === 'admin' || a.subresource === 'stats' ? 'allow' : 'forbidden';
  };
  const app = base({ authorize });
  t.after(() => app.close());
  const get = (url: string, token?: string) => app.inject({ url, headers: { accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) } });
  assert.equal((await get('/pods')).statusCode, 401);
  assert.equal((await get('/pods', 'bad')).json().reason, 'Unauthorized');
  const forbidden = await get('/containerLogs/default/a/main', 'viewer');
  assert.equal(forbidden.statusCode, 403);
  assert.equal(forbidden.json().message, 'Forbidden (user may not get nodes/proxy virt)');
  assert.equal((await get('/stats/summary', 'viewer')).statusCode, 200);
  assert.equal((await get('/healthz', 'admin')).statusCode, 200);
  assert.equal((await get('/metrics/resource', 'viewer')).statusCode, 403);
  assert.equal((await app.inject({ method: 'POST', url: '/exec/default/a/main?command=ls&stdout=1', headers: { authorization: 'Bearer viewer' } })).statusCode, 403);
  assert.deepEqual(seen.slice(2), [
    'get nodes/proxy virt /containerLogs/default/a/main',
    'get nodes/stats virt /stats/summary',
    'get nodes/proxy virt /healthz',
    'get nodes/metrics virt /metrics/resource',
    'create nodes/proxy virt /exec/default/a/main',
  ]);
});

test('/metrics serves the provider registry, with the API request counts; 501 without a registry (real redis)', async (t) => {
  const metrics = createProviderMetrics({ processMetrics: false });
  metrics.setPodPhases({ Running: 3 });
  const app = base({ metrics });
  t.after(() => app.close());
  await app.inject({ url: '/healthz' });
  await app.inject({ url: '/containerLogs/default/nope/main' });
  const res = await app.inject({ url: '/metrics' });
  assert.equal(res.statusCode, 200);
  assert.match(res.body, /^burstlet_pods\{phase="Running"\} 3$/m);
  assert.match(res.body, /^burstlet_kubelet_api_requests_total\{route="\/healthz",method="GET",code="200"\} 1$/m);
  assert.match(res.body, /^burstlet_kubelet_api_requests_total\{route="\/containerLogs\/:namespace\/:pod\/:container",method="GET",code="404"\} 1$/m);
  const bare = base();
  t.after(() => bare.close());
  assert.equal((await bare.inject({ url: '/metrics' })).statusCode, 501);
});

function makeCerts(dir: string): void {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=test-ca');
  ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
  execFileSync('sh', ['-c', 'printf "subjectAltName=IP:127.0.0.1\\n" > san.ext'], { cwd: dir });
  ssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '1', '-extfile', 'san.ext');
  ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'client.key', '-out', 'client.csr', '-subj', '/O=system:masters/CN=kube-apiserver');
  ssl('x509', '-req', '-in', 'client.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'client.crt', '-days', '1');
}

test('TLS: serves HTTPS with the given cert; a client certificate signed by the client CA reaches the authorizer (real redis)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'burstlet-kapi-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  makeCerts(dir);
  const file = (name: string) => readFileSync(join(dir, name));
  const identities: string[] = [];
  const authorize: RequestAuthorizer = async ({ clientCert }) => {
    identities.push(clientCert ? `${clientCert.commonName} ${clientCert.organizations.join(',')}` : 'anonymous');
    return clientCert ? 'allow' : 'unauthenticated';
  };
  const app = base({ authorize, tls: { cert: file('server.crt'), key: file('server.key'), clientCa: file('ca.crt') } });
  t.after(() => app.close());
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  assert.match(address, /^https:/);
  const get = (withCert: boolean) =>
    new Promise<number>((resolve, reject) => {
      const req = httpsRequest(`${address}/healthz`, { ca: file('ca.crt'), ...(withCert ? { cert: file('client.crt'), key: file('client.key') } : {}), agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end();
    });
  assert.equal(await get(true), 200);
  assert.equal(await get(false), 401);
  assert.deepEqual(identities, ['kube-apiserver system:masters', 'anonymous']);
});
