import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { buildKubeletApi } from '../../../provider/api/index.ts';
import { kubeAuthorizer, type ReviewClient } from '../../../provider/api/kube-authorizer.ts';
import { startKubeApiServer, type KubeApiServer } from '../../support/kube-apiserver/index.ts';
import { call } from '../../support/kube-apiserver/raw-client.ts';
import { startRedis, type RedisServer } from '../../support/redis.ts';
import { MapPods, pod, uniqueKeys } from './support/fixture.ts';

let apiserver: KubeApiServer;
let redis: RedisServer;
let client: Redis;
const sars: string[] = [];

before(async () => {
  redis = await startRedis();
  client = new Redis(redis.url, { maxRetriesPerRequest: null });
  apiserver = await startKubeApiServer({
    tokens: { 'viewer-token': { user: 'viewer', groups: ['viewers'] } },
    // viewer may read node stats only; everything else falls to the built-in rules (denied).
    authorize: (a) => {
      if (a.user.user !== 'viewer') return undefined;
      sars.push(`${a.verb} ${a.resource}/${a.subresource} ${a.name}`);
      return a.resource === 'nodes' && a.subresource === 'stats' && a.name === 'virt';
    },
  });
});
after(async () => {
  await apiserver.stop();
  client.disconnect();
  await redis.stop();
});

/** The provider's own identity towards the API server: the admin token of the test server. */
const reviewClient = (): ReviewClient => ({
  async request<T>(method: string, path: string, options?: { body?: unknown }): Promise<T> {
    const res = await call(apiserver.url, method, path, options?.body, { token: apiserver.token });
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status}`);
    return res.body as T;
  },
});

test('TokenReview + SubjectAccessReview: 401 anonymous or bad token, 403 without the right, 200 with it (test API server, real redis)', async (t) => {
  const app = buildKubeletApi({ nodeName: 'virt', pods: new MapPods(pod({ name: 'a' })), redis: client, keys: uniqueKeys(), authorize: kubeAuthorizer(reviewClient()) });
  t.after(() => app.close());
  const get = (url: string, token?: string) => app.inject({ url, headers: token ? { authorization: `Bearer ${token}` } : {} });
  assert.equal((await get('/pods')).statusCode, 401);
  assert.equal((await get('/pods', 'nonsense')).statusCode, 401);
  assert.equal((await get('/containerLogs/default/a/main', 'viewer-token')).statusCode, 403);
  assert.equal((await get('/stats/summary', 'viewer-token')).statusCode, 200);
  assert.equal((await get('/pods', apiserver.token)).statusCode, 200, 'the admin identity may do anything');
  assert.deepEqual(sars, ['get nodes/proxy virt', 'get nodes/stats virt']);
});

test('answers are cached: the same token and request ask the API server once (test API server)', async () => {
  let reviews = 0;
  const inner = reviewClient();
  let clock = 0;
  const authorize = kubeAuthorizer({ request: (m, p, o) => (reviews++, inner.request(m, p, o)) }, { now: () => clock });
  const attributes = { verb: 'get', resource: 'nodes', subresource: 'stats', name: 'virt', path: '/stats/summary' } as const;
  assert.equal(await authorize({ token: 'viewer-token', attributes }), 'allow');
  assert.equal(await authorize({ token: 'viewer-token', attributes }), 'allow');
  assert.equal(reviews, 2, 'one TokenReview and one SubjectAccessReview');
  assert.equal(await authorize({ token: 'nonsense', attributes }), 'unauthenticated');
  assert.equal(await authorize({ token: 'nonsense', attributes }), 'unauthenticated');
  assert.equal(reviews, 3);
  clock += 10 * 60_000; // past every TTL
  assert.equal(await authorize({ token: 'viewer-token', attributes }), 'allow');
  assert.equal(reviews, 5);
});

test('client certificates: user = CN, groups = O, then a SubjectAccessReview (test API server)', async () => {
  const authorize = kubeAuthorizer(reviewClient());
  const attributes = { verb: 'get', resource: 'nodes', subresource: 'proxy', name: 'virt', path: '/pods' } as const;
  assert.equal(await authorize({ clientCert: { commonName: 'kube-apiserver', organizations: ['system:masters'] }, attributes }), 'allow');
  assert.equal(await authorize({ clientCert: { commonName: 'viewer', organizations: [] }, attributes }), 'forbidden');
});

test('an API server error rejects (500), it never allows', async () => {
  const authorize = kubeAuthorizer({ request: async () => { throw new Error('connection refused'); } });
  const attributes = { verb: 'get', resource: 'nodes', subresource: 'proxy', name: 'virt', path: '/pods' } as const;
  await assert.rejects(authorize({ token: 'x', attributes }), /connection refused/);
});
