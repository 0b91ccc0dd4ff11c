import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { ApiEventRecorder } from '../../provider/events.ts';
import { KubeClient, type Kube } from '../../provider/kube-client.ts';
import { createProviderMetrics } from '../../provider/metrics.ts';
import { startKubeApiServer, type KubeApiServer } from '../support/kube-apiserver/index.ts';

let api: KubeApiServer;
let kube: KubeClient;
before(async () => {
  api = await startKubeApiServer();
  const config = new KubeConfig();
  config.loadFromString(api.kubeconfig);
  kube = new KubeClient({ config, qps: 1000, burst: 1000, eventQps: 1000, eventBurst: 1000 });
});
after(async () => {
  kube?.close();
  await api?.stop();
});

/** The real client behind a gate: Event writes wait until `open()` (an exhausted Event budget, deterministic). */
function gated(): { kube: Kube; open(): void } {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  return { kube: { request: async (m, p, o) => (await gate, kube.request(m, p, o)), watch: (...a) => kube.watch(...a), close: () => {} }, open };
}

const pod = (name: string) => ({ metadata: { namespace: 'default', name, uid: `uid-${name}` }, spec: { containers: [{ name: 'c' }] } });
const eventsOf = async (name: string) => (await kube.request('GET', '/api/v1/namespaces/default/events')).items.filter((e: any) => e.involvedObject.name === name);
const dropped = async (metrics: ReturnType<typeof createProviderMetrics>, reason: string) => (await metrics.eventsDropped.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0;

test('record never waits for the API server; a full queue drops Events, the rest are written (test API server)', async () => {
  const g = gated();
  const metrics = createProviderMetrics({ processMetrics: false });
  const rec = new ApiEventRecorder(g.kube, 'vk', { maxQueued: 2, concurrency: 1, metrics });
  for (let i = 0; i < 5; i++) rec.record(pod('q1'), { type: 'Normal', reason: 'Started', message: `m${i}`, container: 'c' }, `q1/${i}`);
  // One write in flight (waiting at the gate), two queued, two dropped.
  assert.equal(await dropped(metrics, 'queue_full'), 2);
  g.open();
  await rec.flush();
  const evs = await eventsOf('q1');
  assert.deepEqual(evs.map((e: any) => e.message).sort(), ['m0', 'm1', 'm2']);
  assert.equal(evs[0].source.component, 'kubelet');
  assert.equal(evs[0].involvedObject.fieldPath, 'spec.containers{c}');
  await rec.close();
});

test('spam filter: an object gets its burst of Events, then no more (test API server)', async () => {
  const metrics = createProviderMetrics({ processMetrics: false });
  const rec = new ApiEventRecorder(kube, 'vk', { spamBurst: 3, metrics });
  for (let i = 0; i < 5; i++) rec.record(pod('s1'), { type: 'Warning', reason: 'BackOff', message: `m${i}` }, `s1/${i}`);
  rec.record(pod('s2'), { type: 'Warning', reason: 'BackOff', message: 'other pod' }, 's2/0');
  await rec.flush();
  assert.equal((await eventsOf('s1')).length, 3);
  assert.equal((await eventsOf('s2')).length, 1, 'the filter is per object');
  assert.equal(await dropped(metrics, 'spam'), 2);
  await rec.close();
});

test('close: stops accepting and drops what the budget did not let out in time (test API server)', async () => {
  const g = gated();
  const metrics = createProviderMetrics({ processMetrics: false });
  const rec = new ApiEventRecorder(g.kube, 'vk', { concurrency: 1, metrics });
  for (let i = 0; i < 3; i++) rec.record(pod('c1'), { type: 'Normal', reason: 'Killing', message: `m${i}` }, `c1/${i}`);
  await rec.close(0);
  assert.equal(await dropped(metrics, 'shutdown'), 2);
  rec.record(pod('c1'), { type: 'Normal', reason: 'Killing', message: 'late' }, 'c1/late');
  g.open();
  await rec.flush();
  assert.deepEqual((await eventsOf('c1')).map((e: any) => e.message), ['m0']);
});

test('repeats are correlated like client-go: one Event with a count; a redelivered note is no repeat; deleted → created again (test API server)', async () => {
  const rec = new ApiEventRecorder(kube, 'vk');
  const backOff = (i: number, at: number) => rec.record(pod('r1'), { type: 'Warning', reason: 'BackOff', message: 'Back-off restarting failed container c', container: 'c', at }, `r1/${i}`);
  backOff(0, Date.parse('2026-01-01T00:00:00Z'));
  await rec.flush();
  backOff(1, Date.parse('2026-01-01T00:00:10Z'));
  backOff(1, Date.parse('2026-01-01T00:00:10Z')); // the same note redelivered
  backOff(2, Date.parse('2026-01-01T00:00:40Z'));
  await rec.flush();
  let evs = await eventsOf('r1');
  assert.equal(evs.length, 1);
  assert.equal(evs[0].count, 3);
  assert.equal(evs[0].firstTimestamp, '2026-01-01T00:00:00Z');
  assert.equal(evs[0].lastTimestamp, '2026-01-01T00:00:40Z');
  await kube.request('DELETE', `/api/v1/namespaces/default/events/${evs[0].metadata.name}`);
  backOff(3, Date.parse('2026-01-01T00:01:00Z'));
  await rec.flush();
  evs = await eventsOf('r1');
  assert.equal(evs.length, 1);
  assert.equal(evs[0].count, 4, 'created again with the count so far');
  // A different message is a different Event.
  rec.record(pod('r1'), { type: 'Warning', reason: 'BackOff', message: 'Back-off pulling image "x"', container: 'c' }, 'r1/pull');
  await rec.flush();
  assert.equal((await eventsOf('r1')).length, 2);
  await rec.close();
});

test('more than 10 different messages with one reason within 10 minutes are combined into one Event (test API server)', async () => {
  const rec = new ApiEventRecorder(kube, 'vk');
  for (let i = 0; i < 13; i++) rec.record(pod('a1'), { type: 'Warning', reason: 'Unhealthy', message: `Liveness probe failed: try ${i}` }, `a1/${i}`);
  await rec.flush();
  const evs = await eventsOf('a1');
  const combined = evs.filter((e: any) => e.message.startsWith('(combined from similar events): '));
  assert.equal(evs.length, 11, '10 single Events and one combined');
  assert.equal(combined.length, 1);
  assert.equal(combined[0].message, '(combined from similar events): Liveness probe failed: try 12');
  assert.equal(combined[0].count, 3);
  await rec.close();
});
