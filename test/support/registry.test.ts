// The registry helper against the real docker-registry in each auth mode: push, then fetch
// every manifest and blob back over HTTP with digests and sizes verified; the auth modes
// really refuse what they must (401 with the right challenge) and admit the right client.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pushTestImages } from './images.ts';
import { challengeParams, registryClient } from './oci-client.ts';
import { fetchManifest, fetchManifestRaw } from './oci-fetch.ts';
import { startRegistry, TOKEN_ISSUER, TOKEN_SERVICE, type Registry, type RegistryAuth } from './registry.ts';

const basicHeader = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

for (const auth of ['none', 'basic', 'token'] as RegistryAuth[]) {
  test(`registry (real docker-registry, auth ${auth}): push busybox, fetch every manifest and blob back verified`, async (t) => {
    const reg = await startRegistry({ auth });
    t.after(() => reg.stop());
    assert.equal(reg.auth, auth);
    assert.match(reg.host, /^127\.0\.0\.1:\d+$/);
    assert.equal(reg.url, `http://${reg.host}`);
    const pushed = await pushTestImages(reg, ['busybox']);
    assert.equal(pushed.busybox.ref, `${reg.host}/busybox:latest`);
    const client = registryClient(reg);
    const index = await fetchManifestRaw(client, 'busybox', 'latest', pushed.busybox.digest);
    const { manifests } = JSON.parse(index.body.toString()) as { manifests: { digest: string }[] };
    assert.equal(manifests.length, 2);
    for (const entry of manifests) {
      const image = await fetchManifest(client, 'busybox', entry.digest, entry.digest);
      assert.equal(image.layers.length, 1);
    }
  });
}

test('registry (real docker-registry, auth basic): no or wrong credentials get 401 with a Basic challenge', async (t) => {
  const reg = await startRegistry({ auth: 'basic', username: 'alice', password: 'right' });
  t.after(() => reg.stop());
  assert.equal(reg.username, 'alice');
  const anonymous = await fetch(`${reg.url}/v2/`);
  assert.equal(anonymous.status, 401);
  assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Basic realm="/);
  const wrong = await fetch(`${reg.url}/v2/`, { headers: { authorization: basicHeader('alice', 'wrong') } });
  assert.equal(wrong.status, 401);
  const right = await fetch(`${reg.url}/v2/`, { headers: { authorization: basicHeader('alice', 'right') } });
  assert.equal(right.status, 200);
});

test('registry (real docker-registry, auth token): Bearer challenge, token flow, bad credentials refused', async (t) => {
  const reg = await startRegistry({ auth: 'token' });
  t.after(() => reg.stop());
  const pushed = await pushTestImages(reg, ['hostile/dotdot']);
  const path = '/v2/hostile/dotdot/manifests/latest';
  const accept = { accept: pushed['hostile/dotdot'].mediaType };

  const anonymous = await fetch(`${reg.url}${path}`, { headers: accept });
  assert.equal(anonymous.status, 401);
  const challenge = anonymous.headers.get('www-authenticate') ?? '';
  assert.match(challenge, /^Bearer /);
  assert.deepEqual(challengeParams(challenge), {
    realm: reg.tokenServer!.realm, service: TOKEN_SERVICE, scope: 'repository:hostile/dotdot:pull',
  });

  const tokenUrl = `${reg.tokenServer!.realm}?service=${TOKEN_SERVICE}&scope=repository:hostile/dotdot:pull`;
  const refused = await fetch(tokenUrl, { headers: { authorization: basicHeader(reg.username!, 'wrong') } });
  assert.equal(refused.status, 401);
  assert.equal(reg.tokenServer!.refused, 1);

  // Without credentials the token server answers, but grants nothing the registry accepts.
  const anonToken = (await (await fetch(tokenUrl)).json()) as { token: string };
  const stillRefused = await fetch(`${reg.url}${path}`, { headers: { ...accept, authorization: `Bearer ${anonToken.token}` } });
  assert.equal(stillRefused.status, 401);

  const granted = await fetch(tokenUrl, { headers: { authorization: basicHeader(reg.username!, reg.password!) } });
  assert.equal(granted.status, 200);
  const body = (await granted.json()) as { token: string; access_token: string; expires_in: number; issued_at: string };
  assert.equal(body.access_token, body.token);
  assert.ok(body.expires_in > 0);
  assert.ok(!Number.isNaN(Date.parse(body.issued_at)));
  const [header, claims] = body.token.split('.').slice(0, 2).map((p) => JSON.parse(Buffer.from(p, 'base64url').toString()));
  assert.equal(header.alg, 'ES256');
  assert.equal(header.x5c.length, 1);
  assert.equal(claims.iss, TOKEN_ISSUER);
  assert.equal(claims.aud, TOKEN_SERVICE);
  assert.deepEqual(claims.access, [{ type: 'repository', name: 'hostile/dotdot', actions: ['pull'] }]);

  const ok = await fetch(`${reg.url}${path}`, { headers: { ...accept, authorization: `Bearer ${body.token}` } });
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get('docker-content-digest'), pushed['hostile/dotdot'].digest);

  // The OAuth2 password grant (containerd's first try when it has credentials) works too.
  const form = (password: string) => new URLSearchParams({
    grant_type: 'password', username: reg.username!, password, service: TOKEN_SERVICE,
    scope: 'repository:hostile/dotdot:pull', client_id: 'burstlet-test',
  });
  const oauth = await fetch(reg.tokenServer!.realm, { method: 'POST', body: form(reg.password!) });
  assert.equal(oauth.status, 200);
  const oauthToken = ((await oauth.json()) as { access_token: string }).access_token;
  const viaOauth = await fetch(`${reg.url}${path}`, { headers: { ...accept, authorization: `Bearer ${oauthToken}` } });
  assert.equal(viaOauth.status, 200);
  assert.equal((await fetch(reg.tokenServer!.realm, { method: 'POST', body: form('wrong') })).status, 401);

  // A token scoped to one repository does not open another.
  const other = await fetch(`${reg.url}/v2/busybox/manifests/latest`, { headers: { authorization: `Bearer ${body.token}` } });
  assert.equal(other.status, 401);
});

test('registry (real docker-registry, auth token, anonymousPull): anonymous tokens pull but cannot push', async (t) => {
  const reg = await startRegistry({ auth: 'token', anonymousPull: true });
  t.after(() => reg.stop());
  const pushed = await pushTestImages(reg, ['hostile/device']);
  const anonymous: Registry = { ...reg, username: undefined, password: undefined };
  const client = registryClient(anonymous);
  const image = await fetchManifest(client, 'hostile/device', 'latest', pushed['hostile/device'].digest);
  assert.equal(image.layers.length, 1);
  const push = await client.fetch('/v2/hostile/device/blobs/uploads/', { method: 'POST' });
  await push.buffer();
  assert.equal(push.status, 401);
});

test('registry (real docker-registry): stop() is idempotent and the registry is gone after it', async () => {
  const reg = await startRegistry();
  const live = await fetch(`${reg.url}/v2/`);
  assert.equal(live.headers.get('docker-distribution-api-version'), 'registry/2.0');
  await reg.stop();
  await reg.stop();
  // Refused, or (should another process have taken the port since) not a registry.
  const after = await fetch(`${reg.url}/v2/`).catch(() => undefined);
  assert.equal(after?.headers.get('docker-distribution-api-version') ?? null, null);
});
