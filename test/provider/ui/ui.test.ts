import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { checkExposure } from '../../../provider/ui/auth.ts';
import { History, percentile } from '../../../provider/ui/history.ts';
import { buildUi } from '../../../provider/ui/index.ts';
import { displayStatus } from '../../../provider/ui/views.ts';
import { redisKeys } from '../../../src/keys.ts';
import { silentLogger } from '../../../src/log.ts';
import { publish } from '../../../src/streams.ts';
import { startRedis, type RedisServer } from '../../support/redis.ts';
import { MemorySources, pod } from './memory-sources.ts';

let server: RedisServer;
let redis: Redis;
let queue: Queue;
const keys = redisKeys('uitest');
before(async () => {
  server = await startRedis();
  redis = new Redis(server.url, { maxRetriesPerRequest: null });
  queue = new Queue(keys.queue('default'), { connection: redis, prefix: keys.prefix });
});
after(async () => {
  await queue.close();
  redis.disconnect();
  await server.stop();
});

test('kubectl-style status column', () => {
  const p = pod('x', 'Running').pod;
  assert.equal(displayStatus(p), 'Running');
  p.status!.containerStatuses = [{ name: 'main', state: { waiting: { reason: 'CrashLoopBackOff' } } }];
  assert.equal(displayStatus(p), 'CrashLoopBackOff');
  p.status!.containerStatuses = [{ name: 'main', state: { terminated: { exitCode: 0, reason: 'Completed' } } }];
  assert.equal(displayStatus(p), 'Completed');
  p.spec.initContainers = [{ name: 'init', image: 'busybox' }];
  p.status!.initContainerStatuses = [{ name: 'init', state: { running: {} } }];
  assert.equal(displayStatus(p), 'Init:0/1');
  p.metadata.deletionTimestamp = new Date().toISOString();
  assert.equal(displayStatus(p), 'Terminating');
});

test('history keeps an hour and computes p50/p99 of enqueue→Running', () => {
  const h = new History(60_000);
  for (let i = 1; i <= 100; i++) h.podStarted(`u${i}`, i * 10);
  h.podStarted('u1', 99999);
  const s = h.sample(120_500, 3);
  assert.deepEqual(s, { t: 120_000, queueDepth: 3, started: 100, p50: 500, p99: 990 });
  for (let i = 0; i < 70; i++) h.sample(i * 60_000, 0);
  assert.equal(h.samples().length, 60);
  assert.equal(percentile([], 50), undefined);
});

test('UI bound beyond loopback without auth is refused at startup', () => {
  assert.throws(() => checkExposure('0.0.0.0', {}), /beyond loopback, without auth.*--ui-token/);
  assert.doesNotThrow(() => checkExposure('0.0.0.0', { token: 't' }));
  assert.doesNotThrow(() => checkExposure('127.0.0.1', {}));
});

test('real redis + BullMQ: /api endpoints show pods, queues, workers and log tails', async (t) => {
  const sources = new MemorySources([queue]);
  sources.set(pod('hello', 'Running', { workerId: 'w1' }));
  await queue.add('pod', { n: 1 }, { jobId: 'waiting-1' });
  await redis.set(keys.worker('w1'), JSON.stringify({ id: 'w1', pool: 'default', hostname: 'h', os: 'linux', arch: 'amd64', version: '0.1.0', startedAt: 0, heartbeatAt: Date.now(),
    allocatable: { cpuMillis: 2000, memoryBytes: 2 ** 31, pods: 10, ephemeralStorageBytes: 0 }, used: { cpuMillis: 0, memoryBytes: 0, pods: 1, ephemeralStorageBytes: 0 } }));
  await redis.sadd(keys.workers('default'), 'w1', 'gone');
  await publish(redis, keys.logs('uid-hello', 'main'), { ts: new Date().toISOString(), stream: 'stdout', tag: 'F', line: 'hello from burstlet', attempt: 0 });
  const app = await buildUi({ sources, redis, keys, log: silentLogger() });
  t.after(() => app.close());
  const o = (await app.inject('/api/overview')).json();
  assert.equal(o.pods[0].name, 'hello');
  assert.equal(o.pods[0].status, 'Running');
  assert.deepEqual(o.workers.map((w: { id: string }) => w.id), ['w1']);
  assert.equal(o.queues[0].counts.waiting, 1);
  assert.equal(o.queueDepth, 1);
  const d = (await app.inject('/api/pods/default/hello')).json();
  assert.deepEqual(d.logs.main, ['hello from burstlet']);
  assert.equal((await app.inject('/api/pods/default/nope')).statusCode, 404);
  assert.equal((await app.inject('/api/queues')).json()[0].name, 'pods-default');
  const page = await app.inject('/');
  assert.match(page.body, /<title>burstlet<\/title>/);
  assert.equal((await app.inject('/assets/uplot.js')).statusCode, 200);
  const board = await app.inject('/queues');
  assert.equal(board.statusCode, 200);
});

test('with a token: requests without it get 401, with it 200', async (t) => {
  const app = await buildUi({ sources: new MemorySources([queue]), redis, keys, log: silentLogger(), auth: { token: 's3cret' } });
  t.after(() => app.close());
  assert.equal((await app.inject('/api/pods')).statusCode, 401);
  assert.equal((await app.inject({ url: '/api/pods', headers: { authorization: 'Bearer wrong' } })).statusCode, 401);
  assert.equal((await app.inject({ url: '/api/pods', headers: { authorization: 'Bearer s3cret' } })).statusCode, 200);
  assert.equal((await app.inject('/api/pods?token=s3cret')).statusCode, 200);
  assert.equal((await app.inject('/queues')).statusCode, 401);
  const basic = await buildUi({ sources: new MemorySources([queue]), redis, keys, log: silentLogger(), auth: { basic: 'ops:pw' } });
  t.after(() => basic.close());
  assert.equal((await basic.inject({ url: '/api/pods', headers: { authorization: `Basic ${Buffer.from('ops:pw').toString('base64')}` } })).statusCode, 200);
  assert.equal((await basic.inject({ url: '/api/pods', headers: { authorization: `Basic ${Buffer.from('ops:no').toString('base64')}` } })).statusCode, 401);
});

test('live updates: the SSE stream sends a new overview when a pod changes', async (t) => {
  const sources = new MemorySources([queue]);
  const app = await buildUi({ sources, redis, keys, log: silentLogger(), live: { minGapMs: 10, refreshMs: 60_000 } });
  t.after(() => app.close());
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  const res = await fetch(`${address}/api/stream`);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const nextEvent = async () => {
    while (!buffer.includes('\n\n')) buffer += decoder.decode((await reader.read()).value);
    const i = buffer.indexOf('\n\n');
    const chunk = buffer.slice(0, i);
    buffer = buffer.slice(i + 2);
    return JSON.parse(chunk.split('\n').find((l) => l.startsWith('data: '))!.slice(6));
  };
  assert.equal((await nextEvent()).pods.length, 0);
  sources.set(pod('late', 'Pending'));
  const o = await nextEvent();
  assert.deepEqual(o.pods.map((p: { name: string }) => p.name), ['late']);
  await reader.cancel();
});
