// End to end (root): the test API server (TokenRequest minimum lowered for the test), redis, a
// registry with busybox, the provider and a real worker host on the burstlet runtime. A pod
// whose projected token lives 4 s prints its token file from inside the container; the file
// changes to a new token the API server issued for that pod, while the container runs.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startProvider, type Provider } from '../../provider/provider.ts';
import { silentLogger } from '../../src/log.ts';
import { logRecord } from '../../src/schema/streams.ts';
import { ImageService } from '../../workers/image/image-service.ts';
import { createPodRuntime } from '../../workers/runtime/create-pod-runner.ts';
import { pushTestImages } from '../support/images.ts';
import { startRegistry, type Registry } from '../support/registry.ts';
import { startHost, type TestHost } from '../workers/host/support/fixtures.ts';
import { ROOT_SKIP } from '../workers/runtime/support/rootfs.ts';
import { startEnv, waitFor, type ProviderEnv, testNode } from './support/env.ts';

const NODE = 'vk-token-e2e';
const LIFETIME = 4;

describe('token refresh inside a running container (root, redis, registry, burstlet runtime)', { skip: ROOT_SKIP }, () => {
  let env: ProviderEnv;
  let reg: Registry;
  let image: string;
  let state: string;
  let runtime: ReturnType<typeof createPodRuntime>;
  let host: TestHost;
  let provider: Provider;

  before(async () => {
    env = await startEnv({ minTokenExpirationSeconds: 1 });
    reg = await startRegistry();
    image = (await pushTestImages(reg, ['busybox'])).busybox.ref;
    state = mkdtempSync(join(tmpdir(), 'burstlet-token-e2e-'));
    const images = new ImageService({ root: join(state, 'images'), registry: { allowLoopbackHttp: true } });
    runtime = createPodRuntime({ runtime: 'burstlet', stateDir: state, network: 'none', allowPrivileged: false, allowHostPath: false }, images);
    host = await startHost(env.redisServer.url, env.keys.prefix, runtime.runner, { stateDir: state });
    provider = await startProvider({
      kube: env.kube, redisUrl: env.redisServer.url, keyPrefix: env.keys.prefix, log: silentLogger(), workerCheckMs: 100,
      node: testNode(NODE),
    });
  });
  after(async () => {
    await provider?.stop();
    await host?.host.shutdown('handback');
    await runtime?.runner.close();
    runtime?.release();
    await reg?.stop();
    await env?.stop();
    if (state) rmSync(state, { recursive: true, force: true });
  });

  test('the token file in the container is replaced by a new token issued for the pod', async () => {
    const pod = await env.kube.request('POST', '/api/v1/namespaces/default/pods', {
      body: {
        apiVersion: 'v1', kind: 'Pod', metadata: { name: 'token-reader' },
        spec: {
          nodeName: NODE, restartPolicy: 'Never', terminationGracePeriodSeconds: 1,
          containers: [{
            name: 'c', image,
            command: ['sh', '-c', 'while true; do echo "$(stat -c %a /var/run/vault/token) $(cat /var/run/vault/token)"; sleep 0.3; done'],
            volumeMounts: [{ name: 'vault-token', mountPath: '/var/run/vault' }],
          }],
          volumes: [{ name: 'vault-token', projected: { defaultMode: 0o440, sources: [{ serviceAccountToken: { path: 'token', audience: 'vault', expirationSeconds: LIFETIME } }] } }],
        },
      },
    });
    const uid: string = pod.metadata.uid;
    const seen = async () => {
      const lines = (await env.redis.xrange(env.keys.logs(uid, 'c'), '-', '+')).map(([, f]) => logRecord(JSON.parse(f[1]!)).line);
      return [...new Set(lines.filter((l) => /^\d+ [\w-]+\.[\w-]+\.[\w-]+$/.test(l)))];
    };
    const [first, second] = await waitFor('two different tokens read inside the container', async () => {
      const distinct = await seen();
      return distinct.length >= 2 ? distinct : undefined;
    }, 120_000);
    for (const line of [first!, second!]) {
      const [mode, token] = line.split(' ');
      assert.equal(mode, '440', 'the file keeps its mode');
      const body = JSON.parse(Buffer.from(token!.split('.')[1]!, 'base64url').toString());
      const claims = env.api.issuer.verify(token!, body.iat);
      assert.ok(claims, `a token signed by the API server: ${token}`);
      assert.deepEqual(claims['kubernetes.io'].pod, { name: 'token-reader', uid });
      assert.deepEqual(claims.aud, ['vault']);
    }
    const [a, b] = [first!, second!].map((l) => JSON.parse(Buffer.from(l.split(' ')[1]!.split('.')[1]!, 'base64url').toString()));
    assert.ok(b.iat > a.iat, 'the later token was issued later');
    assert.equal((await env.kube.request('GET', `/api/v1/namespaces/default/pods/token-reader`)).status.phase, 'Running', 'the container kept running');
    await env.kube.request('DELETE', '/api/v1/namespaces/default/pods/token-reader');
    await waitFor('pod gone', async () => env.kube.request('GET', '/api/v1/namespaces/default/pods/token-reader').then(() => false, (err) => err.status === 404), 60_000);
  });
});
