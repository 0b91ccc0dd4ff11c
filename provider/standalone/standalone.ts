/**
 * Standalone mode: everything on this machine. Starts (or uses) Redis, a registry for the
 * example images, the embedded Kubernetes API server, the provider, one worker (a child
 * process), the manifest-folder sync and the UI; stops them in reverse order, deleting the
 * pods first so their containers are stopped by the worker, never orphaned.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { Queue } from 'bullmq';
import { stopChild } from '../../src/child-process.ts';
import type { Logger } from '../../src/log.ts';
import { buildKubeletApi } from '../api/index.ts';
import { KubeClient } from '../kube-client.ts';
import { startProvider } from '../provider.ts';
import { loadOrCreateServingCert } from '../serving-cert.ts';
import { checkExposure, type UiAuth } from '../ui/auth.ts';
import { buildUi, startHistory } from '../ui/index.ts';
import { History } from '../ui/history.ts';
import { KubeUiSources } from '../ui/kube-sources.ts';
import { ManifestSync } from './manifest-sync.ts';
import { startEmbeddedApiServer, startExampleRegistry, startPrivateRedis } from './services.ts';

export interface StandaloneOptions {
  redis?: string;
  keyPrefix: string;
  nodeName: string;
  listen: { host: string; port: number };
  ui: { host: string; port: number };
  uiAuth: UiAuth;
  podManifestPath: string;
  registry?: string;
  stateDir: string;
  runtime: string;
  network: string;
  logLevel: string;
  log: Logger;
  /** Prints what a user needs to see (URLs), apart from the logs. */
  say(line: string): void;
}

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
type Stop = () => Promise<unknown> | unknown;

export async function runStandalone(o: StandaloneOptions, signal: AbortSignal): Promise<void> {
  checkExposure(o.ui.host, o.uiAuth);
  const stops: [string, Stop][] = [];
  const stopAll = async () => {
    for (const [name, stop] of stops.splice(0).reverse()) {
      try {
        await stop();
      } catch (err) {
        o.log.warn({ err }, `stopping ${name} failed`);
      }
    }
  };
  try {
    await startAll(o, stops);
    if (!signal.aborted) await new Promise((r) => signal.addEventListener('abort', r, { once: true }));
  } finally {
    o.say('stopping: pods first, then the worker, provider and services');
    await stopAll();
  }
}

async function startAll(o: StandaloneOptions, stops: [string, Stop][]): Promise<void> {
  let redisUrl = o.redis;
  if (!redisUrl) {
    const redis = await startPrivateRedis();
    stops.push(['redis-server', () => redis.stop()]);
    redisUrl = redis.url;
    o.say(`started a private redis-server at ${redisUrl}`);
  }
  let registry = o.registry;
  if (!registry) {
    const reg = await startExampleRegistry();
    stops.push(['registry', () => reg.stop()]);
    registry = reg.host;
    o.say(`no registry configured: started a local registry (Debian docker-registry, from test support) at ${reg.host} with busybox loaded; it mirrors docker.io for the examples`);
  }
  const api = await startEmbeddedApiServer();
  stops.push(['API server', () => api.stop()]);
  o.say(`embedded Kubernetes API server at ${api.url} — kubectl --kubeconfig ${api.kubeconfigPath} get pods -o wide`);
  const config = new KubeConfig();
  config.loadFromString(api.kubeconfig);
  const kube = new KubeClient({ config, qps: 200, burst: 400 });
  const provider = await startProvider({
    kube, redisUrl, keyPrefix: o.keyPrefix, log: o.log.child({ component: 'provider' }),
    node: { nodeName: o.nodeName, taint: 'virtual-kubelet.io/provider=burstlet:NoSchedule', version: '0.1.0', address: o.listen.host, port: o.listen.port, burst: { cpuMillis: 0, memoryBytes: 0, pods: 0 } },
  });
  stops.push(['provider', () => provider.stop()]);
  // TLS like a kubelet (the API server proxies logs to it over HTTPS); no client auth: loopback only.
  const tls = await loadOrCreateServingCert(undefined, undefined, [o.nodeName, o.listen.host, 'localhost', '127.0.0.1']);
  const kubelet = buildKubeletApi({ nodeName: o.nodeName, pods: provider.pods, redis: provider.redis, keys: provider.keys, tls, log: o.log.child({ component: 'kubelet-api' }) });
  await kubelet.listen({ host: o.listen.host, port: o.listen.port });
  stops.push(['kubelet API', () => kubelet.close()]);
  const worker = await startWorker(o, redisUrl, registry);
  stops.push(['worker', () => stopChild(worker, 60_000)]);
  const sync = new ManifestSync({ kube, dir: resolve(o.podManifestPath), nodeName: o.nodeName, log: o.log.child({ component: 'manifests' }) });
  await sync.start();
  stops.push(['pods', async () => {
    await sync.stop(true);
    await waitForNoPods(() => provider.informer.list().length, 90_000);
  }]);
  o.say(`running the pods in ${resolve(o.podManifestPath)} (add, edit or remove files to change them)`);
  await startUi(o, stops, { kube, provider, redisUrl });
}

async function startUi(o: StandaloneOptions, stops: [string, Stop][], d: { kube: KubeClient; provider: Awaited<ReturnType<typeof startProvider>>; redisUrl: string }): Promise<void> {
  // BullMQ does not close a connection it was given: this one is closed here, after the queue.
  const connection = d.provider.redis.duplicate();
  connection.on('error', (err) => o.log.debug({ err }, 'ui queue connection error'));
  const queue = new Queue(d.provider.keys.queue('default'), { connection, prefix: d.provider.keys.prefix });
  stops.push(['queue view', async () => {
    await queue.close();
    connection.disconnect();
  }]);
  const sources = new KubeUiSources({ kube: d.kube, nodeName: o.nodeName, listPods: () => d.provider.informer.list(), queues: [queue], redis: d.provider.redis, keys: d.provider.keys, log: o.log });
  await sources.start();
  stops.push(['UI sources', () => sources.stop()]);
  const history = new History(60_000);
  stops.push(['UI history', startHistory(sources, history, o.log, 10_000)]);
  const ui = await buildUi({ sources, redis: d.provider.redis, keys: d.provider.keys, log: o.log.child({ component: 'ui' }), auth: o.uiAuth, history });
  const url = await ui.listen({ host: o.ui.host, port: o.ui.port });
  stops.push(['UI', () => ui.close()]);
  o.say(`UI at ${url}${o.uiAuth.token ? ' (token required)' : ''}`);
}

async function startWorker(o: StandaloneOptions, redisUrl: string, registry: string): Promise<ChildProcess> {
  const stateDir = resolve(o.stateDir, 'worker');
  await mkdir(stateDir, { recursive: true });
  const args = [
    join(root, 'src/cli/main.ts'), 'worker', '--redis', redisUrl, '--key-prefix', o.keyPrefix, '--pool', 'default',
    '--state-dir', stateDir, '--runtime', o.runtime, '--network', o.network, '--log-level', o.logLevel,
    '--registry-mirrors', `docker.io=${registry}`, '--insecure-registries', registry, '--shutdown', 'handback',
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  await new Promise<void>((resolveStart, reject) => {
    child.once('spawn', () => resolveStart());
    child.once('error', reject);
  });
  child.once('exit', (code, sig) => {
    if (code !== 0 && sig !== 'SIGTERM') o.log.error({ code, signal: sig }, 'the worker exited');
  });
  return child;
}

async function waitForNoPods(count: () => number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (count() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
}
