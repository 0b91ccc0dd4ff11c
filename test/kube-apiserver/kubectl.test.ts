// kubectl (when installed) against the test API server over TLS: discovery, Table printing,
// describe, delete. kubectl sends bearer tokens only over HTTPS, hence tls: true.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { startKubeApiServer, type KubeApiServer } from '../support/kube-apiserver/index.ts';

const run = promisify(execFile);
const hasKubectl = await run('kubectl', ['version', '--client']).then(() => true, () => false);
const skip = hasKubectl ? false : 'kubectl is not installed';

let s: KubeApiServer;
let core: CoreV1Api;
// kubectl's discovery cache goes to a temp dir, not ~/.kube.
const cacheDir = await mkdtemp(join(tmpdir(), 'burstlet-kubectl-cache-'));
const kubectl = async (...args: string[]) => (await run('kubectl', ['--kubeconfig', s.kubeconfigPath, '--cache-dir', cacheDir, ...args], { timeout: 30_000 })).stdout;

before(async () => {
  s = await startKubeApiServer({ tls: true });
  const kc = new KubeConfig();
  kc.loadFromString(s.kubeconfig);
  core = kc.makeApiClient(CoreV1Api);
  await core.createNode({ body: {
    metadata: { name: 'vk-1', labels: { type: 'virtual-kubelet', 'kubernetes.io/role': 'agent' } },
    status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'ok' }], addresses: [{ type: 'InternalIP', address: '10.1.2.3' }], nodeInfo: { kubeletVersion: 'v1.34.0-burstlet-0.1.0', containerRuntimeVersion: 'burstlet://0.1.0' } as never },
  } });
  await core.createNamespacedPod({ namespace: 'default', body: { metadata: { name: 'web' }, spec: { nodeName: 'vk-1', containers: [{ name: 'c', image: 'busybox:1.36' }] } } });
  await core.patchNamespacedPodStatus({ namespace: 'default', name: 'web', body: [{ op: 'add', path: '/status', value: {
    phase: 'Running', podIP: '10.9.8.7', containerStatuses: [{ name: 'c', ready: true, restartCount: 2, image: 'busybox:1.36', imageID: '', state: { running: { startedAt: '2025-01-01T00:00:00Z' } } }],
  } }] });
});
after(async () => {
  await s?.stop();
  await rm(cacheDir, { recursive: true, force: true });
});

test('client-node verifies the TLS server through certificate-authority-data', async () => {
  assert.match(s.url, /^https:/);
  assert.ok(s.caCert?.includes('BEGIN CERTIFICATE'));
  const pod = await core.readNamespacedPod({ namespace: 'default', name: 'web' });
  assert.equal(pod.status?.podIP, '10.9.8.7');
  const ca = await core.readNamespacedConfigMap({ namespace: 'default', name: 'kube-root-ca.crt' });
  assert.equal(ca.data?.['ca.crt'], s.caCert);
});

test('kubectl get nodes / get pods -o wide print the apiserver columns', { skip }, async () => {
  const nodes = await kubectl('get', 'nodes');
  assert.match(nodes, /^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\n/);
  assert.match(nodes, /vk-1\s+Ready\s+agent\s+\S+\s+v1\.34\.0-burstlet-0\.1\.0/);
  const pods = await kubectl('get', 'pods', '-o', 'wide');
  assert.match(pods, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES\n/);
  assert.match(pods, /web\s+1\/1\s+Running\s+2\s+\S+\s+10\.9\.8\.7\s+vk-1\s+<none>\s+<none>/);
});

test('kubectl describe pod and kubectl delete (graceful: Terminating)', { skip }, async () => {
  const described = await kubectl('describe', 'pod', 'web');
  assert.match(described, /Node:\s+vk-1\//);
  assert.match(described, /IP:\s+10\.9\.8\.7/);
  assert.match(described, /Restart Count:\s+2/);
  assert.match(described, /Status:\s+Running/);
  await kubectl('delete', 'pod', 'web', '--wait=false');
  assert.match(await kubectl('get', 'pod', 'web'), /web\s+1\/1\s+Terminating/);
  const json = JSON.parse(await kubectl('get', 'pod', 'web', '-o', 'json'));
  assert.equal(json.metadata.deletionGracePeriodSeconds, 30);
});

test('kubectl get -w prints watch events as table rows', { skip }, async () => {
  await core.createNamespacedPod({ namespace: 'default', body: { metadata: { name: 'watched' }, spec: { nodeName: 'vk-1', containers: [{ name: 'c', image: 'busybox:1.36' }] } } });
  const child = spawn('kubectl', ['--kubeconfig', s.kubeconfigPath, '--cache-dir', cacheDir, 'get', 'pod', 'watched', '-w'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c) => (out += c));
  const until = async (re: RegExp) => {
    for (let i = 0; i < 600 && !re.test(out); i++) await new Promise((r) => setTimeout(r, 50));
    assert.match(out, re);
  };
  try {
    await until(/watched\s+0\/1\s+Pending/);
    await core.deleteNamespacedPod({ namespace: 'default', name: 'watched' });
    await until(/watched\s+0\/1\s+Terminating/);
  } finally {
    child.kill();
  }
});

test('kubectl with a token over plain HTTP would be anonymous, so the default server is HTTP-only for client-node', { skip }, async () => {
  const plain = await startKubeApiServer();
  try {
    const path = join(cacheDir, 'plain.kubeconfig');
    await writeFile(path, plain.kubeconfig);
    const out = await run('kubectl', ['--kubeconfig', path, '--cache-dir', cacheDir, 'get', 'nodes'], { timeout: 30_000 }).then((r) => r.stdout, (e) => String(e.stderr));
    assert.match(out, /Forbidden|forbidden/, 'kubectl sent no token over http');
  } finally {
    await plain.stop();
  }
});
