import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { buildKubeletApi } from '../../../provider/api/index.ts';
import { startRedis, type RedisServer } from '../../support/redis.ts';
import { MapPods, pod, snapshot, uniqueKeys } from './support/fixture.ts';

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

/** Samples by "name{labels}" → [value, timestamp] from Prometheus text. */
function samples(text: string): Map<string, [number, number | undefined]> {
  const out = new Map<string, [number, number | undefined]>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^(\S+?(?:\{.*\})?) (\S+)(?: (\d+))?$/.exec(line);
    assert.ok(m, `bad sample line ${line}`);
    out.set(m[1]!, [Number(m[2]), m[3] === undefined ? undefined : Number(m[3])]);
  }
  return out;
}

test('/metrics/resource: the kubelet resource metric names with labels and sample timestamps (real redis)', async (t) => {
  const keys = uniqueKeys();
  const app = buildKubeletApi({ nodeName: 'virt', pods: new MapPods(pod({ name: 'a' }), pod({ name: 'b' })), redis, keys });
  t.after(() => app.close());
  const a = snapshot('a', 2, 5000);
  await redis.set(keys.stats('uid-a'), JSON.stringify(a));
  await redis.set(keys.stats('uid-b'), JSON.stringify(snapshot('b', 4, 7000)));
  const res = await app.inject({ url: '/metrics/resource' });
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  assert.match(res.body, /# TYPE container_cpu_usage_seconds_total counter\n/);
  assert.match(res.body, /# HELP node_memory_working_set_bytes \[STABLE\] /);
  const s = samples(res.body);
  assert.deepEqual(s.get('container_cpu_usage_seconds_total{container="main",namespace="default",pod="a"}'), [2, a.at]);
  assert.deepEqual(s.get('container_memory_working_set_bytes{container="side",namespace="default",pod="b"}'), [1000, a.at]);
  assert.deepEqual(s.get('container_start_time_seconds{container="main",namespace="default",pod="a"}'), [Date.parse('2026-03-04T05:00:00Z') / 1000, a.at]);
  assert.deepEqual(s.get('pod_cpu_usage_seconds_total{namespace="default",pod="b"}'), [5, a.at]);
  assert.deepEqual(s.get('pod_memory_working_set_bytes{namespace="default",pod="a"}'), [6000, a.at]);
  assert.deepEqual(s.get('node_cpu_usage_seconds_total'), [8, a.at]);
  assert.deepEqual(s.get('node_memory_working_set_bytes'), [14000, a.at]);
  assert.deepEqual(s.get('resource_scrape_error'), [0, undefined]);
});

test('/metrics/resource: an unusable snapshot sets resource_scrape_error and is left out (real redis)', async (t) => {
  const keys = uniqueKeys();
  const app = buildKubeletApi({ nodeName: 'virt', pods: new MapPods(pod({ name: 'a' }), pod({ name: 'b' })), redis, keys });
  t.after(() => app.close());
  await redis.set(keys.stats('uid-a'), '{"uid":"uid-a"}');
  await redis.set(keys.stats('uid-b'), JSON.stringify(snapshot('other', 1, 1)));
  const s = samples((await app.inject({ url: '/metrics/resource' })).body);
  assert.equal(s.get('resource_scrape_error')?.[0], 1);
  assert.equal([...s.keys()].filter((k) => k.startsWith('container_')).length, 0);
  assert.equal(s.get('node_cpu_usage_seconds_total')?.[0], 0);
});
