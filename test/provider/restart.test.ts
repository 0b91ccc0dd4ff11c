import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, test } from 'node:test';
import { startProvider } from '../../provider/provider.ts';
import { PodQueues } from '../../provider/queue.ts';
import { silentLogger } from '../../src/log.ts';
import { freePort } from '../support/ports.ts';
import { publishPodEvent, registerWorker, startEnv, waitFor, type ProviderEnv, testNode } from './support/env.ts';

let env: ProviderEnv;
before(async () => {
  env = await startEnv();
});
after(() => env.stop());

const NODE = 'vk-restart';
const createPod = (name: string) => env.kube.request('POST', '/api/v1/namespaces/default/pods', {
  body: { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { nodeName: NODE, containers: [{ name: 'c', image: 'busybox', command: ['sleep', '60'] }] } },
});

test('restart: provider SIGKILLed mid-churn (50 pods) — nothing enqueued twice, orphan jobs cleaned, statuses sent meanwhile applied (redis)', async (t) => {
  await registerWorker(env.redis, env.keys, { id: 'w-restart' });
  const port = await freePort();
  const child = spawn(process.execPath, [
    'src/cli/main.ts', 'provider', '--kubeconfig', env.api.kubeconfigPath, '--node-name', NODE, '--redis', env.redisServer.url,
    '--key-prefix', env.keys.prefix, '--listen', `127.0.0.1:${port}`, '--no-tls', '--no-authentication', '--log-level', 'warn', '--log-format', 'json',
  ], { stdio: 'ignore' });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  t.after(() => child.kill('SIGKILL'));
  await waitFor('node registered', async () => env.kube.request('GET', `/api/v1/nodes/${NODE}`), 120_000);
  const queues = new PodQueues(env.redis, env.keys);
  t.after(() => queues.close());
  const pods: any[] = [];
  for (let i = 0; i < 25; i++) pods.push(await createPod(`churn-${i}`));
  await waitFor('some jobs enqueued, the first two among them', async () => {
    const ids = await queues.jobIds('default');
    return ids.length >= 10 && ids.includes(pods[0].metadata.uid) && ids.includes(pods[1].metadata.uid);
  }, 120_000);
  child.kill('SIGKILL');
  await exited;
  for (let i = 25; i < 50; i++) pods.push(await createPod(`churn-${i}`));
  const before = new Map((await queues.queue('default').getJobs(['waiting'], 0, -1)).map((j) => [j.id!, j.timestamp]));
  // While the provider is down: one pod is deleted for good, and a worker reports another Running.
  const gone = pods[0];
  await env.kube.request('DELETE', `/api/v1/namespaces/default/pods/${gone.metadata.name}`, { body: { gracePeriodSeconds: 0 } });
  const runningPod = pods[1];
  await publishPodEvent(env.redis, env.keys, { uid: runningPod.metadata.uid, namespace: 'default', name: runningPod.metadata.name, workerId: 'w-restart', phase: 'Running', podIP: '10.1.2.3' });

  const provider = await startProvider({
    kube: env.kube, redisUrl: env.redisServer.url, keyPrefix: env.keys.prefix, log: silentLogger(),
    node: testNode(NODE, { port }),
  });
  t.after(() => provider.stop());
  const live = pods.slice(1).map((p) => p.metadata.uid as string).sort();
  const ids = await waitFor('every live pod has exactly its job, the orphan is gone', async () => {
    const got = (await queues.jobIds('default')).sort();
    return JSON.stringify(got) === JSON.stringify(live) && got;
  }, 120_000);
  assert.equal(new Set(ids).size, ids.length, 'no duplicate job ids');
  for (const job of await queues.queue('default').getJobs(['waiting'], 0, -1)) {
    if (before.has(job.id!)) assert.equal(job.timestamp, before.get(job.id!), `job ${job.id} was not re-added`);
  }
  const p1 = await waitFor('status sent while down is applied', async () => {
    const p = await env.kube.request('GET', `/api/v1/namespaces/default/pods/${runningPod.metadata.name}`);
    return p.status.phase === 'Running' && p;
  });
  assert.equal(p1.status.podIP, '10.1.2.3');
});
