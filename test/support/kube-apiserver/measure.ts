// Throughput of the test API server through @kubernetes/client-node, client in the same process
// (not a test; figures for reports): node_modules/.bin/node test/support/kube-apiserver/measure.ts [pods] [concurrency]
import { CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions, Watch } from '@kubernetes/client-node';
import { startKubeApiServer } from './index.ts';
import { call } from './raw-client.ts';

const pods = Number(process.argv[2] ?? 500);
const concurrency = Number(process.argv[3] ?? 20);
const s = await startKubeApiServer();
const kc = new KubeConfig();
kc.loadFromString(s.kubeconfig);
const core = kc.makeApiClient(CoreV1Api);

/** Runs fn(0..n-1) with at most `concurrency` in flight; returns operations per second. */
async function rate(n: number, fn: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < n) await fn(next++);
  }));
  return Math.round((n / (performance.now() - start)) * 1000);
}

let seen = 0;
const list = await core.listPodForAllNamespaces();
const watch = await new Watch(kc).watch('/api/v1/pods', { resourceVersion: list.metadata!.resourceVersion }, () => void seen++, () => {});
const creates = await rate(pods, (i) => core.createNamespacedPod({ namespace: 'default', body: { metadata: { name: `p${i}` }, spec: { nodeName: 'vk', containers: [{ name: 'c', image: 'busybox:1.36' }] } } }));
const smp = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);
const patches = await rate(pods, (i) => core.patchNamespacedPodStatus({ namespace: 'default', name: `p${i}`, body: { status: { phase: 'Running', podIP: '10.0.0.1', conditions: [{ type: 'Ready', status: 'True' }] } } }, smp));
while (seen < 2 * pods) await new Promise((r) => setTimeout(r, 5));
const t = performance.now();
await core.listPodForAllNamespaces({ fieldSelector: 'spec.nodeName=vk' });
const listMs = Math.round(performance.now() - t);
// The same creates over Node's keep-alive http agent: client-node opens a new connection (a new
// undici Agent) for every request, which is most of its cost.
const rawCreates = await rate(pods, (i) => call(s.url, 'POST', '/api/v1/namespaces/default/pods', { metadata: { name: `r${i}` }, spec: { nodeName: 'vk', containers: [{ name: 'c', image: 'busybox:1.36' }] } }, { token: s.token }));
watch.abort();
await s.stop();
console.log(JSON.stringify({ pods, concurrency, creates_per_s: creates, status_patches_per_s: patches, raw_keepalive_creates_per_s: rawCreates, list_ms: listMs, watch_events: seen, rss_mb: Math.round(process.memoryUsage().rss / 1e6) }));
