import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { redisKeys } from '../../src/keys.ts';
import { silentLogger } from '../../src/log.ts';
import { podEvent, type PodEvent } from '../../src/schema/pod-event.ts';
import { GroupReader, publish } from '../../src/streams.ts';
import { startRedis, type RedisServer } from '../support/redis.ts';

let server: RedisServer;
let redis: Redis;
before(async () => {
  server = await startRedis({ appendonly: true });
  redis = new Redis(server.url, { maxRetriesPerRequest: null });
});
after(async () => {
  redis.disconnect();
  await server.stop();
});

const event = (seq: number): PodEvent => ({ uid: 'u1', namespace: 'default', name: 'p', seq, workerId: 'w', at: 1, phase: 'Running' });

test('real redis-server: valid events round-trip, malformed ones go to dead-letter with their id', async () => {
  const keys = redisKeys(`t${process.pid}`);
  const seen: PodEvent[] = [];
  const reader = new GroupReader({
    redis, stream: keys.events, group: 'provider', consumer: 'c1', deadLetter: keys.deadLetter,
    validate: podEvent, log: silentLogger(), blockMs: 50, handle: async (m) => void seen.push(m),
  });
  await reader.start();
  await reader.stop();
  await publish(redis, keys.events, event(1));
  const badId = await redis.xadd(keys.events, '*', 'm', JSON.stringify({ ...event(2), phase: 'Exploded' }));
  const notJson = await redis.xadd(keys.events, '*', 'm', '{nope');
  const noField = await redis.xadd(keys.events, '*', 'other', 'x');
  await publish(redis, keys.events, event(3));
  while ((await reader.readOnce('>')) > 0);
  assert.deepEqual(seen.map((e) => e.seq), [1, 3]);
  assert.deepEqual(seen[0], event(1));
  const dead = await redis.xrange(keys.deadLetter, '-', '+');
  const fields = dead.map(([, f]) => Object.fromEntries(f.reduce<string[][]>((a, x, i) => (i % 2 ? a[a.length - 1]!.push(x) : a.push([x]), a), [])));
  assert.deepEqual(fields.map((f) => f.id), [badId, notJson, noField]);
  assert.match(fields[0]!.error!, /phase: expected one of/);
  assert.equal(fields[0]!.source, keys.events);
  assert.equal(fields[1]!.payload, '{nope');
  const pending = (await redis.xpending(keys.events, 'provider')) as [number, ...unknown[]];
  assert.equal(pending[0], 0, 'every entry, valid or not, is acknowledged');
});

test('real redis-server: a failing handler leaves the message pending and it is redelivered', async () => {
  const keys = redisKeys(`r${process.pid}`);
  let fail = true;
  const seen: number[] = [];
  const make = () => new GroupReader({
    redis, stream: keys.events, group: 'provider', consumer: 'c1', deadLetter: keys.deadLetter,
    validate: podEvent, log: silentLogger(), blockMs: 50,
    handle: async (m) => {
      if (fail) throw new Error('apiserver down');
      seen.push(m.seq);
    },
  });
  const reader = make();
  await reader.start();
  await reader.stop();
  await publish(redis, keys.events, event(5));
  await reader.readOnce('>');
  assert.deepEqual(seen, []);
  fail = false;
  await make().readOnce('0');
  assert.deepEqual(seen, [5]);
});

test('real redis-server with AOF: stream entries survive a crash and restart', async () => {
  const keys = redisKeys(`a${process.pid}`);
  await publish(redis, keys.events, event(9));
  await server.crash();
  await server.restart();
  const fresh = new Redis(server.url);
  try {
    const entries = await fresh.xrange(keys.events, '-', '+');
    assert.equal(entries.length, 1);
    assert.deepEqual(JSON.parse(entries[0]![1][1]!), event(9));
  } finally {
    fresh.disconnect();
  }
});
