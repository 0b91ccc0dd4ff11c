import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ApiEventRecorder } from '../../provider/events.ts';
import type { Kube, KubeObject } from '../../provider/kube-client.ts';
import { StatusSync } from '../../provider/status-sync.ts';
import { silentLogger } from '../../src/log.ts';
import { EVENTS_GROUP } from '../../src/keys.ts';
import { publishPodEvent, startEnv, waitFor, type ProviderEnv } from './support/env.ts';
import { running } from './support/worker-sim.ts';

let env: ProviderEnv;
before(async () => {
  env = await startEnv();
});
after(() => env?.stop());

/** A gate: requests matching it wait until `open()` — a rate limiter that has no token yet, deterministic. */
function gate() {
  let open!: () => void;
  const p = new Promise<void>((r) => (open = r));
  return { wait: () => p, open };
}

test('status sync: snapshots arriving while a write waits for its turn coalesce into one PATCH; Events never hold it up (redis)', async () => {
  const statusGate = gate();
  const eventGate = gate();
  let statusWaiting = 0;
  let statusPatches = 0;
  const kube: Kube = {
    async request(method, path, options) {
      if (path.endsWith('/status')) {
        statusWaiting++;
        await statusGate.wait();
        // The real client builds a lazy body here, after its limiter; count what is sent.
        const body = options?.body;
        const built = typeof body === 'function' ? (body as () => unknown)() : body;
        if (built !== undefined) statusPatches++;
        return env.kube.request(method, path, { ...options, body: built });
      }
      if (path.includes('/events')) await eventGate.wait();
      return env.kube.request(method, path, options);
    },
    watch: (...a) => env.kube.watch(...a),
    close() {},
  };
  const created = await env.kube.request('POST', '/api/v1/namespaces/default/pods', {
    body: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'co-1' }, spec: { nodeName: 'vk-sync', containers: [{ name: 'c', image: 'busybox:1.36' }] } },
  });
  const pods = new Map<string, KubeObject>([[created.metadata.uid, created]]);
  const events = new ApiEventRecorder(kube, 'vk-sync');
  const sync = new StatusSync({ redis: env.redis, keys: env.keys, kube, events, pod: (uid) => pods.get(uid), consumer: 'test', log: silentLogger(), blockMs: 50 });
  await sync.start();
  try {
    const base = { uid: created.metadata.uid, namespace: 'default', name: 'co-1', workerId: 'w1' };
    await publishPodEvent(env.redis, env.keys, { ...base, phase: 'Pending', containerStatuses: [{ ...running(), ready: false, started: false, state: { waiting: { reason: 'ContainerCreating' } } }] });
    await waitFor('first write waiting for its turn', () => statusWaiting === 1);
    await publishPodEvent(env.redis, env.keys, { ...base, phase: 'Running', podIP: '10.88.0.9', containerStatuses: [{ ...running(), ready: false }] });
    await publishPodEvent(env.redis, env.keys, {
      ...base, phase: 'Running', podIP: '10.88.0.9', containerStatuses: [running()], conditions: [{ type: 'Ready', status: 'True' }],
      notes: [{ type: 'Normal', reason: 'Started', message: 'Started container c', container: 'c', at: Date.now() }],
    });
    await waitFor('all three snapshots read', async () => ((await env.redis.xpending(env.keys.events, EVENTS_GROUP)) as [number])[0] === 3);
    statusGate.open();
    const pod = await waitFor('Running and Ready', async () => {
      const p = await env.kube.request('GET', '/api/v1/namespaces/default/pods/co-1');
      return p.status.conditions?.some((c: KubeObject) => c.type === 'Ready' && c.status === 'True') ? p : false;
    });
    assert.equal(pod.status.podIP, '10.88.0.9');
    assert.equal(statusPatches, 1, 'one write carried the newest of the three snapshots');
    // Acknowledged after the write although the Event (gated: no Event budget) is not written yet.
    await waitFor('acknowledged', async () => ((await env.redis.xpending(env.keys.events, EVENTS_GROUP)) as [number])[0] === 0);
    assert.equal(Number(await env.redis.hget(env.keys.appliedSeq, created.metadata.uid)), 3);
    eventGate.open();
    await events.flush();
    const evs = (await env.kube.request('GET', '/api/v1/namespaces/default/events')).items.filter((e: KubeObject) => e.involvedObject.name === 'co-1');
    assert.deepEqual(evs.map((e: KubeObject) => e.reason), ['Started']);
  } finally {
    statusGate.open();
    eventGate.open();
    await sync.stop();
    await events.close();
  }
});
