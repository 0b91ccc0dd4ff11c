import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { buildKubeletApi } from '../../../provider/api/index.ts';
import { startRedis, type RedisServer } from '../../support/redis.ts';
import { AT, MapPods, pod, running, snapshot, uniqueKeys } from './support/fixture.ts';

let server: RedisServer;
let redis: Redis;
before(async () => {
  server = await startRedis();
  redis = new Redis(server.url, { maxRetriesPerRequest: null });
});
after(async () => {
  redis.disconnect();
  await server.stop();
});

test('/stats/summary: node totals are the sum of the pods; pods carry podRef, containers and times (real redis)', async (t) => {
  const keys = uniqueKeys();
  const pods = new MapPods(pod({ name: 'a', statuses: [running('main')] }), pod({ name: 'b' }), pod({ name: 'no-stats' }));
  const start = new Date('2026-03-04T00:00:00Z');
  const app = buildKubeletApi({ nodeName: 'virt', pods, redis, keys, startTime: start });
  t.after(() => app.close());
  await redis.set(keys.stats('uid-a'), JSON.stringify(snapshot('a', 2, 5000)));
  await redis.set(keys.stats('uid-b'), JSON.stringify({ ...snapshot('b', 4, 7000), cpu: { usageNanoCores: 5, usageCoreNanoSeconds: 9 } }));
  const res = await app.inject({ url: '/stats/summary' });
  assert.equal(res.statusCode, 200);
  const body = res.json();
  assert.equal(body.node.nodeName, 'virt');
  assert.equal(body.node.startTime, start.toISOString());
  const time = new Date(AT).toISOString();
  // Pod a: summed containers (2e9 + 1e9 ns); pod b: its own totals as the worker sent them.
  assert.deepEqual(body.node.cpu, { time, usageNanoCores: 1.1e8 + 5, usageCoreNanoSeconds: 3e9 + 9 });
  assert.equal(body.node.memory.workingSetBytes, 6000 + 8000);
  assert.equal(body.pods.length, 2);
  const a = body.pods.find((p: { podRef: { name: string } }) => p.podRef.name === 'a');
  assert.deepEqual(a.podRef, { name: 'a', namespace: 'default', uid: 'uid-a' });
  assert.deepEqual(a.cpu, { time, usageNanoCores: 1.1e8, usageCoreNanoSeconds: 3e9 });
  assert.deepEqual(a.memory, { time, workingSetBytes: 6000, usageBytes: 10000 });
  assert.deepEqual(a.containers.map((c: { name: string }) => c.name), ['main', 'side']);
  assert.equal(a.containers[0].startTime, '2026-03-04T05:00:00Z');
  assert.deepEqual(a.containers[0].memory, { time, workingSetBytes: 5000, usageBytes: 10000 });
});

test('/stats/summary with no pod stats: a node with zero usage, no pods (real redis)', async (t) => {
  const app = buildKubeletApi({ nodeName: 'virt', pods: new MapPods(), redis, keys: uniqueKeys() });
  t.after(() => app.close());
  const body = (await app.inject({ url: '/stats/summary' })).json();
  assert.equal(body.node.cpu.usageCoreNanoSeconds, 0);
  assert.equal(body.node.memory.workingSetBytes, 0);
  assert.deepEqual(body.pods, []);
});
