import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { apiServerAuthorizer } from '../../provider/kubelet-auth.ts';
import { startProvider } from '../../provider/provider.ts';
import { providerSpec } from '../../src/config/commands.ts';
import { loadConfig } from '../../src/config/load.ts';
import { silentLogger } from '../../src/log.ts';
import type { Attributes } from '../support/kube-apiserver/index.ts';
import { startEnv, waitFor, type ProviderEnv, testNode } from './support/env.ts';
import { running, SimWorker, terminated } from './support/worker-sim.ts';

const SA_USER = 'system:serviceaccount:burstlet:burstlet-provider';
const load = async (file: string) => parseAllDocuments(await readFile(new URL(`../../deploy/${file}`, import.meta.url), 'utf8')).map((d) => d.toJSON());

interface Rule { apiGroups: string[]; resources: string[]; verbs: string[] }
let rules: Rule[];
const denied: string[] = [];

// RBAC evaluation of the ClusterRole for the provider's service account, nothing else.
function allowedByRole(a: Attributes): boolean | undefined {
  if (a.user.user !== SA_USER) return undefined;
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const ok = a.resourceRequest && rules.some((r) => (r.apiGroups.includes(a.group) || r.apiGroups.includes('*')) && r.resources.includes(resource) && r.verbs.includes(a.verb));
  if (!ok) denied.push(`${a.verb} ${a.group}/${resource}`);
  return ok;
}

let env: ProviderEnv;
before(async () => {
  const docs = await load('rbac.yaml');
  rules = docs.find((d) => d.kind === 'ClusterRole').rules;
  env = await startEnv({ tokens: { 'sa-token': { user: SA_USER, groups: ['system:serviceaccounts'] } }, authorize: allowedByRole });
});
after(() => env.stop());

test('deploy: the ClusterRole in deploy/rbac.yaml is enough for the whole provider flow (kube test server enforcing it) (redis)', async (t) => {
  const sim = new SimWorker(env.redis, env.keys, 'sim-rbac');
  t.after(() => sim.close());
  await sim.register();
  const kube = env.clientFor('sa-token');
  const provider = await startProvider({
    kube, redisUrl: env.redisServer.url, keyPrefix: env.keys.prefix, log: silentLogger(),
    node: testNode('vk-rbac'),
  });
  t.after(() => provider.stop());
  for (const doc of await load('runtimeclass.yaml')) await env.kube.request('POST', '/apis/node.k8s.io/v1/runtimeclasses', { body: doc });
  await env.kube.request('POST', '/api/v1/namespaces/default/configmaps', { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'rbac-cm' }, data: { k: 'v' } } });
  await env.kube.request('POST', '/api/v1/namespaces/default/pods', {
    body: {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'rbac-1' },
      spec: { nodeName: 'vk-rbac', containers: [{ name: 'c', image: 'busybox', env: [{ name: 'K', valueFrom: { configMapKeyRef: { name: 'rbac-cm', key: 'k' } } }] }] },
    },
  });
  const job = await sim.claim();
  await sim.publish(job, { phase: 'Running', containerStatuses: [running()], notes: [{ type: 'Normal', reason: 'Started', message: 'Started container c', container: 'c', at: Date.now() }] });
  await waitFor('Running', async () => (await env.kube.request('GET', '/api/v1/namespaces/default/pods/rbac-1')).status.phase === 'Running');
  await env.kube.request('DELETE', '/api/v1/namespaces/default/pods/rbac-1');
  await waitFor('stop', async () => (await sim.control()).some((m) => m.kind === 'stop'));
  await sim.publish(job, { phase: 'Succeeded', containerStatuses: [terminated()] });
  await sim.complete(job.uid);
  await waitFor('deleted', async () => !(await env.kube.request('GET', '/api/v1/namespaces/default/pods').then((l) => l.items.some((p: any) => p.metadata.name === 'rbac-1'))));
  // The kubelet API's webhook authentication/authorization with the same identity.
  const authorize = apiServerAuthorizer(kube);
  assert.equal(await authorize({ token: env.api.token, attributes: { verb: 'get', resource: 'nodes', subresource: 'proxy', name: 'vk-rbac', path: '/pods' } }), 'allow');
  assert.deepEqual(denied, [], 'every request the provider made was allowed by the ClusterRole');
});

test('deploy: the provider Deployment\'s args are valid provider flags; names line up across manifests', async () => {
  const [deployment] = await load('provider.yaml');
  const spec = deployment.spec.template.spec;
  const [, ...args] = spec.containers[0].args;
  const { values } = loadConfig(providerSpec, args, {});
  assert.equal(values.listen.port, spec.containers[0].ports[0].containerPort);
  const rbac = await load('rbac.yaml');
  const sa = rbac.find((d) => d.kind === 'ServiceAccount');
  assert.equal(spec.serviceAccountName, sa.metadata.name);
  assert.equal(deployment.metadata.namespace, sa.metadata.namespace);
  const binding = rbac.find((d) => d.kind === 'ClusterRoleBinding');
  assert.deepEqual(binding.subjects[0], { kind: 'ServiceAccount', name: sa.metadata.name, namespace: sa.metadata.namespace });
  const redisSvc = (await load('redis.yaml')).find((d) => d.kind === 'Service');
  assert.ok(values.redis!.includes(`${redisSvc.metadata.name}.${redisSvc.metadata.namespace}.svc:${redisSvc.spec.ports[0].port}`));
  const [rc] = await load('runtimeclass.yaml');
  assert.equal(rc.handler, 'lambda');
  assert.deepEqual(rc.scheduling.tolerations[0], { key: 'virtual-kubelet.io/provider', operator: 'Equal', value: 'burstlet', effect: 'NoSchedule' });
});
