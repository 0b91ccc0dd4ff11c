import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { request } from 'node:https';
import { after, before, test } from 'node:test';
import { freePort } from '../support/ports.ts';
import { startEnv, waitFor, type ProviderEnv } from './support/env.ts';

let env: ProviderEnv;
before(async () => {
  env = await startEnv({ tokens: { 'weak-token': { user: 'bob', groups: ['system:authenticated'] } } });
});
after(() => env.stop());

// GET over TLS against the self-signed serving certificate.
function get(port: number, path: string, token?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, rejectUnauthorized: false, headers: token ? { authorization: `Bearer ${token}` } : {} }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('burstlet provider --kubeconfig --node-name --redis: registers the node, serves an authenticated kubelet API, stops on SIGTERM (redis)', async (t) => {
  const port = await freePort();
  const child = spawn(process.execPath, [
    'src/cli/main.ts', 'provider', '--kubeconfig', env.api.kubeconfigPath, '--node-name', 'vk-cli', '--redis', env.redisServer.url,
    '--key-prefix', env.keys.prefix, '--listen', `127.0.0.1:${port}`, '--log-format', 'json', '--log-level', 'warn',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c) => (stderr += c));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.after(() => child.kill('SIGKILL'));
  const node = await waitFor('node registered', async () => env.kube.request('GET', '/api/v1/nodes/vk-cli'), 120_000);
  assert.equal(node.status.daemonEndpoints.kubeletEndpoint.Port, port);
  await waitFor('lease', async () => env.kube.request('GET', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/vk-cli'));
  await waitFor('kubelet API up', async () => (await get(port, '/healthz')).status > 0, 120_000);
  assert.equal((await get(port, '/pods')).status, 401, 'anonymous → 401');
  assert.equal((await get(port, '/pods', 'weak-token')).status, 403, 'no nodes/proxy → 403');
  const ok = await get(port, '/pods', env.api.token);
  assert.equal(ok.status, 200, ok.body);
  assert.equal(JSON.parse(ok.body).kind, 'PodList');
  child.kill('SIGTERM');
  assert.equal(await exited, 0, stderr);
});

test('burstlet provider --leader-elect: a second replica waits, and takes over when the first stops (redis)', async (t) => {
  await env.kube.request('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'burstlet' } } });
  const start = async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [
      'src/cli/main.ts', 'provider', '--kubeconfig', env.api.kubeconfigPath, '--node-name', 'vk-ha', '--redis', env.redisServer.url,
      '--key-prefix', env.keys.prefix, '--listen', `127.0.0.1:${port}`, '--no-tls', '--no-authentication', '--leader-elect', '--log-level', 'warn',
    ], { stdio: 'ignore' });
    t.after(() => child.kill('SIGKILL'));
    return { child, exited: new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code))) };
  };
  const leasePath = '/apis/coordination.k8s.io/v1/namespaces/burstlet/leases/burstlet-provider-vk-ha';
  const first = await start();
  const held = await waitFor('first replica leads', async () => env.kube.request('GET', leasePath), 120_000);
  await waitFor('first replica registered the node', async () => env.kube.request('GET', '/api/v1/nodes/vk-ha'), 120_000);
  const second = await start();
  // A renewal later, the first replica still holds the lease although the second runs.
  await waitFor('a renewal later', async () => (await env.kube.request('GET', leasePath)).spec.renewTime !== held.spec.renewTime, 120_000);
  assert.equal((await env.kube.request('GET', leasePath)).spec.holderIdentity, held.spec.holderIdentity);
  first.child.kill('SIGTERM');
  assert.equal(await first.exited, 0);
  const taken = await waitFor('second replica takes over', async () => {
    const l = await env.kube.request('GET', leasePath);
    return l.spec.holderIdentity && l.spec.holderIdentity !== held.spec.holderIdentity && l;
  }, 120_000);
  assert.equal(taken.spec.leaseTransitions, 1, 'one change of holder');
  second.child.kill('SIGTERM');
  assert.equal(await second.exited, 0);
});
