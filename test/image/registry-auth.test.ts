// Registry auth: challenge parsing, docker config lookup, and the real basic and token flows.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { BurstletError } from '../../src/errors.ts';
import { ImageService } from '../../workers/image/image-service.ts';
import { authFromDockerConfigs, parseChallenge, userPass } from '../../workers/image/registry-auth.ts';
import { RegistryClient } from '../../workers/image/registry-client.ts';
import { pushTestImages } from '../support/images.ts';
import { startRegistry } from '../support/registry.ts';
import { startRegistryProxy } from './support/registry-proxy.ts';

test('WWW-Authenticate challenges parse like the distribution spec writes them', () => {
  assert.deepEqual(parseChallenge('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull"'), {
    scheme: 'bearer', params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a/b:pull' },
  });
  assert.deepEqual(parseChallenge('Basic realm="x"'), { scheme: 'basic', params: { realm: 'x' } });
  assert.equal(parseChallenge('Negotiate abc'), undefined);
  assert.equal(parseChallenge(null), undefined);
});

test('docker config.json auths: base64 auth, explicit fields, legacy dockercfg, Docker Hub keys', () => {
  const auth = Buffer.from('alice:s3cr:et').toString('base64');
  assert.deepEqual(userPass(authFromDockerConfigs([JSON.stringify({ auths: { 'reg.example:5000': { auth } } })], 'reg.example:5000')), { username: 'alice', password: 's3cr:et' });
  assert.deepEqual(userPass(authFromDockerConfigs([{ auths: { 'https://reg.example': { username: 'bob', password: 'pw' } } }], 'reg.example')), { username: 'bob', password: 'pw' });
  assert.deepEqual(userPass(authFromDockerConfigs([{ 'reg.example': { auth } }], 'reg.example')), { username: 'alice', password: 's3cr:et' });
  assert.deepEqual(userPass(authFromDockerConfigs([{ auths: { 'https://index.docker.io/v1/': { auth } } }], 'docker.io')), { username: 'alice', password: 's3cr:et' });
  assert.equal(authFromDockerConfigs([{ auths: { 'other.example': { auth } } }], 'reg.example'), undefined);
  assert.throws(() => authFromDockerConfigs(['{not json'], 'reg.example'), (err: unknown) => (err as BurstletError).code === 'CONTAINER_CONFIG');
});

function root(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'burstlet-auth-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function authFailure(registry: string) {
  return (err: unknown) => {
    assert.ok(err instanceof BurstletError, String(err));
    assert.equal(err.code, 'IMAGE_AUTH_FAILED');
    assert.equal(err.reason, 'ErrImagePull');
    assert.ok(err.message.includes(`registry ${registry}`), err.message);
    return true;
  };
}

describe('basic auth (real registry)', () => {
  test('pull with imagePullSecrets works; wrong or missing credentials fail after one challenge', async (t) => {
    const reg = await startRegistry({ auth: 'basic' });
    t.after(() => reg.stop());
    await pushTestImages(reg, ['busybox-docker']);
    const proxy = await startRegistryProxy(reg.url);
    t.after(() => proxy.stop());
    const ref = `${proxy.host}/busybox-docker:latest`;
    const client = new RegistryClient({ allowLoopbackHttp: true });
    await client.ping(proxy.host, { username: reg.username, password: reg.password });
    await assert.rejects(client.ping(proxy.host, { username: reg.username, password: 'nope' }), authFailure(proxy.host));
    const svc = new ImageService({ root: root(t), registry: { allowLoopbackHttp: true } });
    const secret = JSON.stringify({ auths: { [proxy.host]: { auth: Buffer.from(`${reg.username}:${reg.password}`).toString('base64') } } });
    assert.match(await svc.pullImage(ref, { pullSecrets: [secret] }), /^sha256:/);
    for (const auth of [{ username: reg.username!, password: 'wrong' }, undefined]) {
      const fresh = new ImageService({ root: root(t), registry: { allowLoopbackHttp: true } });
      const mark = proxy.log.length;
      await assert.rejects(fresh.pullImage(ref, { auth }), authFailure(proxy.host));
      assert.equal(proxy.log.length - mark, 2, 'one challenge, one attempt: no retry storm');
    }
  });
});

describe('token auth (real registry + token server)', () => {
  test('bearer tokens come from the challenge realm and are reused; bad credentials fail once', async (t) => {
    const reg = await startRegistry({ auth: 'token' });
    t.after(() => reg.stop());
    await pushTestImages(reg, ['busybox', 'layers']);
    const tokens = reg.tokenServer!;
    const svc = new ImageService({ root: root(t), registry: { allowLoopbackHttp: true } });
    const auth = { username: reg.username!, password: reg.password! };
    const issued = tokens.issued;
    await svc.pullImage(`${reg.host}/busybox:latest`, { auth });
    assert.equal(tokens.issued - issued, 1, 'one token for index, manifest, config and layer');
    await svc.pullImage(`${reg.host}/layers:latest`, { auth });
    assert.equal(tokens.issued - issued, 2, 'a new repository scope needs one new token');
    const refused = tokens.refused;
    const other = new ImageService({ root: root(t), registry: { allowLoopbackHttp: true } });
    await assert.rejects(other.pullImage(`${reg.host}/busybox:latest`, { auth: { ...auth, password: 'wrong' } }), (err: unknown) => {
      authFailure(reg.host)(err);
      assert.match((err as Error).message, /token server refused the credentials of "burstlet"/);
      return true;
    });
    assert.equal(tokens.refused - refused, 1);
    // Anonymous: the token server grants nothing, the registry refuses the token.
    await assert.rejects(other.pullImage(`${reg.host}/layers:latest`), authFailure(reg.host));
  });
});
