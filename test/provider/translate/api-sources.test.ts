import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Kube } from '../../../provider/kube-client.ts';
import { apiSources } from '../../../provider/translate/api-sources.ts';
import { startEnv, type ProviderEnv } from '../support/env.ts';

let env: ProviderEnv;
before(async () => {
  env = await startEnv();
});
after(() => env.stop());

test('api sources: found objects are shared for the TTL, misses are asked again at once (kube test server)', async () => {
  let gets = 0;
  // The real client, counting the requests it makes.
  const counting: Kube = { request: (m, p, o) => (gets++, env.kube.request(m, p, o)), watch: (...a) => env.kube.watch(...a), close: () => {} };
  let now = 0;
  const sources = apiSources(counting, undefined, { ttlMs: 5000, now: () => now });
  const all = await Promise.all(Array.from({ length: 20 }, () => sources.configMap('default', 'kube-root-ca.crt')));
  assert.ok(all.every((cm) => cm?.data?.['ca.crt']), 'kube-root-ca.crt read');
  assert.equal(gets, 1, '20 concurrent reads, one GET');
  now = 4000;
  await sources.configMap('default', 'kube-root-ca.crt');
  assert.equal(gets, 1, 'still fresh');
  now = 6000;
  await sources.configMap('default', 'kube-root-ca.crt');
  assert.equal(gets, 2, 'expired: read again');
  assert.equal(await sources.secret('default', 'absent'), undefined);
  await env.kube.request('POST', '/api/v1/namespaces/default/secrets', { body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'absent' }, stringData: { k: 'v' } } });
  assert.ok(await sources.secret('default', 'absent'), 'a miss is not cached');
});
