import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { TokenCache } from '../../../provider/translate/token-cache.ts';
import { startEnv, type ProviderEnv } from '../support/env.ts';

let env: ProviderEnv;
before(async () => {
  env = await startEnv();
});
after(() => env.stop());

test('token cache: TokenRequest bound to the pod, reused until 80 % of its lifetime, then refreshed (kube test server)', async () => {
  const pod = await env.kube.request('POST', '/api/v1/namespaces/default/pods', {
    body: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'tok-1' }, spec: { nodeName: 'n', containers: [{ name: 'c', image: 'busybox' }] } },
  });
  let now = Date.now();
  const cache = new TokenCache(env.kube, () => now);
  const first = await cache.get(pod, 'api', 3600);
  assert.ok(first.token.length > 20);
  assert.ok(Math.abs(first.expiresAt - (now + 3600_000)) < 120_000, 'expiry as asked');
  now += 3600_000 * 0.79;
  assert.equal((await cache.get(pod, 'api', 3600)).token, first.token, 'reused before 80 %');
  now += 3600_000 * 0.02;
  const second = await cache.get(pod, 'api', 3600);
  assert.notEqual(second.token, first.token, 'refreshed after 80 %');
  const other = await cache.get(pod, 'other', 3600);
  assert.notEqual(other.token, second.token, 'another audience is another token');
});

test('token cache: a long-lived token is refreshed after 24 h at the latest, as the kubelet does; peek never requests (kube test server)', async () => {
  const pod = await env.kube.request('POST', '/api/v1/namespaces/default/pods', {
    body: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'tok-2' }, spec: { nodeName: 'n', containers: [{ name: 'c', image: 'busybox' }] } },
  });
  let now = Date.now();
  const cache = new TokenCache(env.kube, () => now);
  assert.equal(cache.peek(pod, 'api', 7 * 86400), undefined);
  const week = await cache.get(pod, 'api', 7 * 86400);
  const held = cache.peek(pod, 'api', 7 * 86400)!;
  assert.equal(held.token, week);
  assert.equal(held.refreshAt - now, 24 * 3600_000, 'due after 24 h, not at 80 % of a week');
  now += 24 * 3600_000 - 1;
  assert.equal((await cache.get(pod, 'api', 7 * 86400)).token, week.token);
  now += 1;
  assert.notEqual((await cache.get(pod, 'api', 7 * 86400)).token, week.token);
});
