import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { KubeObject } from '../../provider/kube-client.ts';
import { PodInformer } from '../../provider/pod-informer.ts';
import { silentLogger } from '../../src/log.ts';
import { startEnv, waitFor, type ProviderEnv } from './support/env.ts';

let env: ProviderEnv;
before(async () => {
  env = await startEnv();
});
after(() => env.stop());

const createPod = (name: string, nodeName: string) => env.kube.request('POST', '/api/v1/namespaces/default/pods', {
  body: { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { nodeName, containers: [{ name: 'c', image: 'busybox' }] } },
});

test('informer: only the node\'s pods; bookmarks advance the resourceVersion; 410 Gone relists and reports missed deletions (kube test server)', async (t) => {
  const seen: string[] = [];
  const removed: string[] = [];
  const handler = { upsert: (p: KubeObject) => void seen.push(p.metadata.name), remove: (p: KubeObject) => void removed.push(p.metadata.name) };
  const informer = new PodInformer({ kube: env.kube, nodeName: 'inf', handler, log: silentLogger() });
  t.after(() => informer.stop());
  await createPod('inf-a', 'inf');
  await informer.start();
  assert.deepEqual(seen, ['inf-a'], 'the first list delivers existing pods');
  await createPod('other-x', 'elsewhere');
  await createPod('inf-b', 'inf');
  await waitFor('watch delivers inf-b', () => seen.includes('inf-b'));
  assert.ok(!seen.includes('other-x'), 'pods of other nodes are filtered by fieldSelector');
  assert.deepEqual(informer.list().map((p) => p.metadata.name).sort(), ['inf-a', 'inf-b']);

  // Bookmarks (every second on the test server) move the resourceVersion past others' writes.
  await createPod('other-y', 'elsewhere');
  const rvAfterOthers = (await env.kube.request('GET', '/api/v1/namespaces/default/pods/other-y')).metadata.resourceVersion;
  await waitFor('bookmark advances resourceVersion', () => Number(informer.resourceVersion) >= Number(rvAfterOthers));

  // The watch drops, a pod vanishes while nobody watches and history is compacted: the
  // re-watch gets 410 Gone, the informer relists and reports the deletion it missed.
  const lists = informer.lists;
  env.api.closeWatches();
  env.api.store.remove('pods', 'default', 'inf-a');
  env.api.compact();
  await waitFor('relisted', () => informer.lists > lists);
  await waitFor('missed deletion reported', () => removed.includes('inf-a'));
  assert.deepEqual(informer.list().map((p) => p.metadata.name), ['inf-b']);
  await createPod('inf-c', 'inf');
  await waitFor('watching again after the relist', () => seen.includes('inf-c'));
});
