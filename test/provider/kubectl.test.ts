import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { startProvider, type Provider } from '../../provider/provider.ts';
import { silentLogger } from '../../src/log.ts';
import { startEnv, waitFor, type ProviderEnv, testNode } from './support/env.ts';
import { running, SimWorker } from './support/worker-sim.ts';

const KUBECTL = '/usr/bin/kubectl';
const NODE = 'vk-kubectl';
let env: ProviderEnv;
let provider: Provider;
let sim: SimWorker;

before(async () => {
  if (!existsSync(KUBECTL)) return;
  // kubectl's discovery wants the TLS flavour of the test server.
  env = await startEnv({ tls: true });
  sim = new SimWorker(env.redis, env.keys, 'sim-kubectl');
  await sim.register();
  provider = await startProvider({
    kube: env.kube, redisUrl: env.redisServer.url, keyPrefix: env.keys.prefix, log: silentLogger(), workerCheckMs: 100,
    node: testNode(NODE, { address: '10.9.8.7' }),
  });
});
after(async () => {
  await provider?.stop();
  await sim?.close();
  await env?.stop();
});

// Its own discovery cache: another test server may have used the same port before.
const kubectl = async (...args: string[]) => (await promisify(execFile)(KUBECTL, ['--kubeconfig', env.api.kubeconfigPath, '--cache-dir', join(dirname(env.api.kubeconfigPath), 'kubectl-cache'), ...args], { timeout: 60_000 })).stdout;

test('kubectl get nodes / get pods -o wide / describe pod show what the provider wrote (redis)', { skip: existsSync(KUBECTL) ? false : `${KUBECTL} not installed` }, async () => {
  const nodes = await waitFor('node Ready in kubectl', async () => {
    const out = await kubectl('get', 'nodes', '-o', 'wide');
    return / Ready /.test(out.split('\n').find((l) => l.startsWith(NODE)) ?? '') && out;
  });
  const row = nodes.split('\n').find((l) => l.startsWith(NODE))!;
  assert.match(row, /\bagent\b/);
  assert.match(row, /v1\.\d+\.\d+-burstlet-0\.1\.0/);
  assert.match(row, /10\.9\.8\.7/);
  assert.match(row, /burstlet:\/\/0\.1\.0/);

  await env.kube.request('POST', '/api/v1/namespaces/default/pods', {
    body: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'kc-1' }, spec: { nodeName: NODE, containers: [{ name: 'c', image: 'busybox' }] } },
  });
  const job = await sim.claim();
  await sim.publish(job, {
    phase: 'Running', podIP: '10.88.0.42', hostIP: '10.9.8.7', containerStatuses: [running()],
    conditions: [{ type: 'Ready', status: 'True' }, { type: 'ContainersReady', status: 'True' }],
    notes: [{ type: 'Normal', reason: 'Started', message: 'Started container c', container: 'c', at: Date.now() }],
  });
  const pods = await waitFor('pod Running in kubectl', async () => {
    const out = await kubectl('get', 'pods', '-o', 'wide');
    return /kc-1\s+1\/1\s+Running/.test(out) && out;
  });
  const podRow = pods.split('\n').find((l) => l.startsWith('kc-1'))!;
  assert.match(podRow, /10\.88\.0\.42/);
  assert.match(podRow, new RegExp(NODE));
  const described = await waitFor('Started event in describe', async () => {
    const out = await kubectl('describe', 'pod', 'kc-1');
    return /Started\s+.*Started container c/.test(out) && out;
  });
  assert.match(described, /Node:\s+vk-kubectl\/10\.9\.8\.7/);
  assert.match(described, /IP:\s+10\.88\.0\.42/);
  assert.match(described, /kubelet/);
  await sim.complete(job.uid);
});
