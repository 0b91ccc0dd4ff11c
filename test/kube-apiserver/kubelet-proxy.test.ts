// pods/log and nodes/proxy forwarded to a node's kubelet endpoint, against a fake kubelet
// (an https server recording what the apiserver sent).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { startKubeApiServer, type KubeApiServer } from '../support/kube-apiserver/index.ts';
import { call, request } from '../support/kube-apiserver/raw-client.ts';
import { selfSignedCert } from '../support/kube-apiserver/tls.ts';

let s: KubeApiServer;
let kubelet: Server;
let dir: string;
const seen: { method: string; url: string; auth?: string; body: string }[] = [];
let releaseFollow: () => void = () => {};
const api = (method: string, path: string, body?: unknown) => call(s.url, method, path, body, { token: s.token, ca: s.caCert });
const run = promisify(execFile);
const hasKubectl = await run('kubectl', ['version', '--client']).then(() => true, () => false);

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'burstlet-fake-kubelet-'));
  kubelet = createServer(await selfSignedCert(dir), (req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, auth: req.headers.authorization, body });
      if (req.url!.startsWith('/containerLogs/default/multi/')) return void res.writeHead(404).end('container not found');
      if (req.url!.startsWith('/containerLogs/') && req.url!.includes('follow=true')) {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.write('line 1\n');
        releaseFollow = () => res.end('line 2\n');
        return;
      }
      if (req.url!.startsWith('/containerLogs/')) return void res.writeHead(200, { 'Content-Type': 'text/plain' }).end('hello from the kubelet\n');
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ path: req.url, method: req.method, body }));
    });
  });
  await new Promise<void>((r) => kubelet.listen(0, '127.0.0.1', r));
  const port = (kubelet.address() as { port: number }).port;
  s = await startKubeApiServer({ tls: hasKubectl });
  await api('POST', '/api/v1/nodes', { metadata: { name: 'vk' }, status: { addresses: [{ type: 'Hostname', address: 'vk.invalid' }, { type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: port } } } });
  const pod = (name: string, containers: string[], nodeName?: string) => ({ metadata: { name }, spec: { nodeName, containers: containers.map((c) => ({ name: c, image: 'i:1' })) } });
  await api('POST', '/api/v1/namespaces/default/pods', pod('single', ['main'], 'vk'));
  await api('POST', '/api/v1/namespaces/default/pods', pod('multi', ['a', 'b'], 'vk'));
  await api('POST', '/api/v1/namespaces/default/pods', pod('pending', ['main']));
});
after(async () => {
  await s?.stop();
  kubelet?.closeAllConnections();
  await new Promise((r) => kubelet?.close(r));
  await rm(dir, { recursive: true, force: true });
});

test('pods/log is forwarded to /containerLogs on the node InternalIP and kubelet port, with the log options and the server credentials', async () => {
  const res = await api('GET', '/api/v1/namespaces/default/pods/single/log?tailLines=5&timestamps=true&sinceSeconds=10&limitBytes=100&previous=false');
  assert.equal(res.status, 200);
  assert.equal(res.body, 'hello from the kubelet\n');
  const req = seen.at(-1)!;
  assert.equal(req.url, '/containerLogs/default/single/main?limitBytes=100&sinceSeconds=10&tailLines=5&timestamps=true');
  assert.equal(req.auth, `Bearer ${s.kubeletClientToken}`);
  const review = await api('POST', '/apis/authentication.k8s.io/v1/tokenreviews', { spec: { token: s.kubeletClientToken } });
  assert.equal(review.body.status.user.username, 'kube-apiserver-kubelet-client', 'a kubelet can authenticate the apiserver by TokenReview');
});

test('pods/log checks: container choice, unknown container, unbound pod, option validation, kubelet errors', async () => {
  const multi = await api('GET', '/api/v1/namespaces/default/pods/multi/log');
  assert.equal(multi.status, 400);
  assert.equal(multi.body.message, 'a container name must be specified for pod multi, choose one of: [a b]');
  assert.equal((await api('GET', '/api/v1/namespaces/default/pods/single/log?container=nope')).body.message, 'container nope is not valid for pod single');
  assert.equal((await api('GET', '/api/v1/namespaces/default/pods/pending/log')).body.message, 'pod pending does not have a host assigned');
  assert.equal((await api('GET', '/api/v1/namespaces/default/pods/single/log?sinceSeconds=1&sinceTime=2025-01-01T00:00:00Z')).status, 422);
  const gone = await api('GET', '/api/v1/namespaces/default/pods/multi/log?container=b');
  assert.equal(gone.status, 404);
  assert.equal(gone.body.kind, 'Status');
  assert.equal(gone.body.message, 'container not found');
});

test('pods/log?follow=true streams: the first line arrives before the kubelet ends the response', async () => {
  const url = new URL('/api/v1/namespaces/default/pods/single/log?follow=true', s.url);
  const chunks: string[] = [];
  const done = new Promise<void>((resolve, reject) => {
    const req = request(url, { headers: { Authorization: `Bearer ${s.token}` }, ca: s.caCert }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        chunks.push(c);
        // Only once the first line went through does the fake kubelet get to finish.
        if (chunks.join('') === 'line 1\n') releaseFollow();
      });
      res.on('end', resolve);
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
  await done;
  assert.equal(chunks.join(''), 'line 1\nline 2\n');
});

test('nodes/{name}/proxy/... passes method, path, query and body through', async () => {
  const get = await api('GET', '/api/v1/nodes/vk/proxy/stats/summary?only_cpu_and_memory=true');
  assert.equal(get.status, 200);
  assert.deepEqual(get.body, { path: '/stats/summary?only_cpu_and_memory=true', method: 'GET', body: '' });
  const post = await api('POST', '/api/v1/nodes/vk/proxy/run/default/single/main', { cmd: 'ls' });
  assert.deepEqual(post.body, { path: '/run/default/single/main', method: 'POST', body: JSON.stringify({ cmd: 'ls' }) });
  assert.equal((await api('GET', '/api/v1/nodes/ghost/proxy/pods')).status, 404);
});

test('kubectl logs --tail goes through the API server to the kubelet', { skip: hasKubectl ? false : 'kubectl is not installed' }, async () => {
  const out = await run('kubectl', ['--kubeconfig', s.kubeconfigPath, '--cache-dir', join(dir, 'kubectl-cache'), 'logs', 'single', '--tail=5'], { timeout: 30_000 });
  assert.equal(out.stdout, 'hello from the kubelet\n');
  assert.match(seen.at(-1)!.url, /^\/containerLogs\/default\/single\/main\?tailLines=5/);
});

test('pods/exec, attach and portforward are listed but answer 501 NotImplemented', async () => {
  const res = await api('POST', '/api/v1/namespaces/default/pods/single/exec?command=ls&stdout=true');
  assert.equal(res.status, 501);
  assert.equal(res.body.reason, 'NotImplemented');
  const discovery = await api('GET', '/api/v1');
  assert.ok(discovery.body.resources.some((r: { name: string }) => r.name === 'pods/exec'));
});
