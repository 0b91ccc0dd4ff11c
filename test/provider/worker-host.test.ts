// The provider with the real worker host (workers/host) on the same redis: the Redis contract
// end to end. Containers run as plain processes (the host tests' ProcessRunner), so this needs
// no root; the real executor is covered by the workers' own tests.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startProvider, type Provider } from '../../provider/provider.ts';
import { silentLogger } from '../../src/log.ts';
import { ProcessRunner } from '../workers/host/support/process-runner.ts';
import { startHost, type TestHost } from '../workers/host/support/fixtures.ts';
import { startEnv, waitFor, type ProviderEnv, testNode } from './support/env.ts';

const NODE = 'vk-host';
let env: ProviderEnv;
let provider: Provider;
let host: TestHost;
const runner = new ProcessRunner();

before(async () => {
  env = await startEnv();
  host = await startHost(env.redisServer.url, env.keys.prefix, runner);
  provider = await startProvider({
    kube: env.kube, redisUrl: env.redisServer.url, keyPrefix: env.keys.prefix, log: silentLogger(), workerCheckMs: 100,
    node: testNode(NODE),
  });
});
after(async () => {
  await provider?.stop();
  await host?.host.shutdown('finish');
  host?.cleanup();
  await env?.stop();
});

const createPod = (name: string, command: string[], extra: Record<string, unknown> = {}) => env.kube.request('POST', '/api/v1/namespaces/default/pods', {
  body: { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { nodeName: NODE, restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox', command }], ...extra } },
});
const getPod = (name: string) => env.kube.request('GET', `/api/v1/namespaces/default/pods/${name}`);
const gone = async (name: string) => getPod(name).then(() => false, (err) => err.status === 404);

test('with the real worker host: node Ready, a pod runs to Succeeded, a sleeping pod is stopped and deleted on graceful delete (redis)', async () => {
  await waitFor('node Ready', async () => (await env.kube.request('GET', `/api/v1/nodes/${NODE}`)).status.conditions.find((c: any) => c.type === 'Ready').status === 'True');
  await createPod('ok-1', ['sh', '-c', 'echo hello; exit 0']);
  const done = await waitFor('Succeeded', async () => ((await getPod('ok-1')).status.phase === 'Succeeded' ? getPod('ok-1') : false));
  assert.equal(done.status.phase, 'Succeeded');

  await createPod('sleep-1', ['sleep', '300'], { terminationGracePeriodSeconds: 120 });
  await waitFor('Running', async () => (await getPod('sleep-1')).status.phase === 'Running');
  await env.kube.request('DELETE', '/api/v1/namespaces/default/pods/sleep-1');
  await waitFor('deleted once its process is stopped, long before the 120 s grace', () => gone('sleep-1'));
  assert.deepEqual(runner.list(), [], 'no pod left running on the worker');
});
