import assert from 'node:assert/strict';
import { after, before, test, type TestContext } from 'node:test';
import { Redis } from 'ioredis';
import { FOLLOW_CONNECTION } from '../../../provider/api/container-logs.ts';
import { buildKubeletApi } from '../../../provider/api/index.ts';
import { startRedis, type RedisServer } from '../../support/redis.ts';
import { eventually, MapPods, pod, running, terminated, uniqueKeys, writeLogs } from './support/fixture.ts';

let server: RedisServer;
// Connections of log follows currently open on the server, and how many are blocked in XREAD.
const followers = async () => {
  const lines = ((await redis.client('LIST')) as string).split('\n').filter((l) => l.includes(`name=${FOLLOW_CONNECTION} `));
  return { open: lines.length, blocked: lines.filter((l) => / cmd=xread /.test(l)).length };
};
let redis: Redis;
before(async () => {
  server = await startRedis();
  redis = new Redis(server.url, { maxRetriesPerRequest: null });
});
after(async () => {
  redis.disconnect();
  await server.stop();
});

function setup(t: TestContext, pods = new MapPods(pod({ name: 'web', statuses: [running('main')] }))) {
  const keys = uniqueKeys();
  const app = buildKubeletApi({ nodeName: 'burstlet', pods, redis, keys, blockMs: 100 });
  t.after(() => app.close());
  return { app, keys, pods };
}

const JSON_ACCEPT = { accept: 'application/json, */*' };
const logs = (query = '', name = 'web', container = 'main') => `/containerLogs/default/${name}/${container}${query ? `?${query}` : ''}`;

test('logs of a container as plain text: stdout and stderr interleaved, partial lines joined (real redis)', async (t) => {
  const { app, keys } = setup(t);
  await writeLogs(redis, keys, 'uid-web', 'main', [
    { line: 'one' },
    { line: 'oops', stream: 'stderr' },
    { line: 'par', tag: 'P' },
    { line: 'tial' },
  ]);
  const res = await app.inject({ url: logs() });
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers['content-type']), /^text\/plain/);
  assert.equal(res.body, 'one\noops\npartial\n');
});

test('timestamps prefix each record with its RFC 3339 time (real redis)', async (t) => {
  const { app, keys } = setup(t);
  await writeLogs(redis, keys, 'uid-web', 'main', [{ ts: '2026-01-02T03:04:05.123456789Z', line: 'a' }]);
  const res = await app.inject({ url: logs('timestamps=true') });
  assert.equal(res.body, '2026-01-02T03:04:05.123456789Z a\n');
});

test('tailLines keeps the last N lines, across read chunks; tail=all keeps every line (real redis)', async (t) => {
  const { app, keys } = setup(t);
  const key = keys.logs('uid-web', 'main');
  const pipeline = redis.pipeline();
  for (let i = 0; i < 2500; i++) pipeline.xadd(key, '*', 'm', JSON.stringify({ ts: new Date().toISOString(), stream: 'stdout', tag: 'F', line: `l${i}`, attempt: 0 }));
  await pipeline.exec();
  assert.equal((await app.inject({ url: logs('tailLines=3') })).body, 'l2497\nl2498\nl2499\n');
  const longTail = (await app.inject({ url: logs('tailLines=1500') })).body.split('\n');
  assert.equal(longTail.length, 1501);
  assert.equal(longTail[0], 'l1000');
  assert.equal((await app.inject({ url: logs('tailLines=0') })).body, '');
  assert.equal((await app.inject({ url: logs('tail=all') })).body.split('\n').length, 2501);
});

test('sinceTime and sinceSeconds drop older records (real redis)', async (t) => {
  const { app, keys } = setup(t);
  const old = new Date(Date.now() - 3_600_000).toISOString();
  await writeLogs(redis, keys, 'uid-web', 'main', [{ ts: old, line: 'old' }, { line: 'new' }]);
  assert.equal((await app.inject({ url: logs('sinceSeconds=60') })).body, 'new\n');
  const since = new Date(Date.now() - 7_200_000).toISOString();
  assert.equal((await app.inject({ url: logs(`sinceTime=${encodeURIComponent(since)}`) })).body, 'old\nnew\n');
});

test('limitBytes cuts the output at that many bytes (real redis)', async (t) => {
  const { app, keys } = setup(t);
  await writeLogs(redis, keys, 'uid-web', 'main', [{ line: 'abcdef' }, { line: 'ghij' }]);
  assert.equal((await app.inject({ url: logs('limitBytes=9') })).body, 'abcdef\ngh');
});

test('previous shows the last terminated instance; without a restart it is a 400 like the kubelet (real redis)', async (t) => {
  const pods = new MapPods(pod({ name: 'web', statuses: [running('main', 2)] }), pod({ name: 'fresh', statuses: [running('main', 0)] }));
  const { app, keys } = setup(t, pods);
  await writeLogs(redis, keys, 'uid-web', 'main', [
    { line: 'first', attempt: 0 },
    { line: 'second', attempt: 1 },
    { line: 'third', attempt: 2 },
  ]);
  assert.equal((await app.inject({ url: logs('previous=true') })).body, 'second\n');
  assert.equal((await app.inject({ url: logs() })).body, 'third\n');
  const res = await app.inject({ url: logs('previous=true', 'fresh'), headers: JSON_ACCEPT });
  assert.equal(res.statusCode, 400);
  assert.match(res.json().message, /previous terminated container "main" in pod "fresh" not found/);
});

test('unknown pod or container → 404 Status; bad options → 400 Status (real redis)', async (t) => {
  const { app } = setup(t);
  const noPod = await app.inject({ url: logs('', 'nope'), headers: JSON_ACCEPT });
  assert.equal(noPod.statusCode, 404);
  assert.deepEqual({ ...(noPod.json() as object), details: undefined }, {
    kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'pod "nope" does not exist', reason: 'NotFound', code: 404, details: undefined,
  });
  const noContainer = await app.inject({ url: logs('', 'web', 'sidecar'), headers: JSON_ACCEPT });
  assert.equal(noContainer.statusCode, 404);
  assert.equal(noContainer.json().message, 'container "sidecar" not found in pod "web"');
  // Without JSON in Accept the error is the bare message, as the kubelet writes it.
  const plain = await app.inject({ url: logs('', 'nope') });
  assert.equal(plain.statusCode, 404);
  assert.match(String(plain.headers['content-type']), /^text\/plain/);
  assert.equal(plain.body, 'pod "nope" does not exist');
  for (const q of ['sinceSeconds=5&sinceTime=2026-01-01T00:00:00Z', 'tailLines=-1', 'tailLines=x', 'limitBytes=0', 'sinceTime=yesterday']) {
    const res = await app.inject({ url: logs(q), headers: JSON_ACCEPT });
    assert.equal(res.statusCode, 400, q);
    assert.equal(res.json().reason, 'BadRequest', q);
  }
});

test('a malformed log record is skipped and moved to dead-letter (real redis)', async (t) => {
  const { app, keys } = setup(t);
  await writeLogs(redis, keys, 'uid-web', 'main', [{ line: 'good' }]);
  await redis.xadd(keys.logs('uid-web', 'main'), '*', 'm', '{"line":1}');
  assert.equal((await app.inject({ url: logs() })).body, 'good\n');
  const dead = await redis.xrange(keys.deadLetter, '-', '+');
  assert.equal(dead.length, 1);
});

test('follow streams new records and ends once the container terminated, with nothing lost (real redis)', async (t) => {
  const { app, keys, pods } = setup(t);
  await writeLogs(redis, keys, 'uid-web', 'main', [{ line: 'before' }]);
  const response = app.inject({ url: logs('follow=true') });
  // Write only once the follow waits in XREAD BLOCK, so these records come through the follow.
  await eventually(async () => (await followers()).blocked > 0, 'the follow to block in redis');
  await writeLogs(redis, keys, 'uid-web', 'main', [{ line: 'during-1' }, { line: 'during-2' }]);
  pods.put(pod({ name: 'web', statuses: [terminated('main')] }));
  // Records written right as the container ends are still drained before the stream closes.
  await writeLogs(redis, keys, 'uid-web', 'main', [{ line: 'last' }]);
  const res = await response;
  assert.equal(res.statusCode, 200);
  assert.equal(res.body, 'before\nduring-1\nduring-2\nlast\n');
});

test('follow of a container that already ended returns at once with the whole log (real redis)', async (t) => {
  const { app, keys } = setup(t, new MapPods(pod({ name: 'web', phase: 'Succeeded', statuses: [terminated('main')] })));
  await writeLogs(redis, keys, 'uid-web', 'main', [{ line: 'done' }]);
  assert.equal((await app.inject({ url: logs('follow=1') })).body, 'done\n');
});

test('follow ends and frees its Redis connection when the client goes away (real redis)', async (t) => {
  const { app, keys } = setup(t);
  await writeLogs(redis, keys, 'uid-web', 'main', [{ line: 'hello' }]);
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  const abort = new AbortController();
  const res = await fetch(`${address}${logs('follow=true')}`, { signal: abort.signal });
  const reader = res.body!.getReader();
  const first = await reader.read();
  assert.equal(Buffer.from(first.value!).toString(), 'hello\n');
  await eventually(async () => (await followers()).open > 0, 'the follow connection to open');
  abort.abort();
  await eventually(async () => (await followers()).open === 0, 'the follow connection to close');
});

test('closing the API ends open follows instead of waiting for their containers (real redis)', async (t) => {
  const { app, keys } = setup(t);
  await writeLogs(redis, keys, 'uid-web', 'main', [{ line: 'hello' }]);
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  const res = await fetch(`${address}${logs('follow=true')}`);
  const body = res.text();
  await eventually(async () => (await followers()).blocked > 0, 'the follow to block in redis');
  const closed = app.close().then(() => 'closed');
  assert.equal(await Promise.race([closed, new Promise((r) => setTimeout(() => r('still open after 20 s'), 20_000).unref())]), 'closed');
  assert.equal(await body, 'hello\n');
  await eventually(async () => (await followers()).open === 0, 'the follow connection to close');
});
