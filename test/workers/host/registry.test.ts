import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { silentLogger } from '../../../src/log.ts';
import { workerInfo, type Capacity } from '../../../src/schema/worker.ts';
import { detectAllocatable, Ledger } from '../../../workers/host/capacity.ts';
import { Registry } from '../../../workers/host/registry.ts';
import { stableWorkerId } from '../../../workers/host/worker-id.ts';
import { startRedis, type RedisServer } from '../../support/redis.ts';
import { redisKeys, uniquePrefix, waitFor } from './support/fixtures.ts';

let server: RedisServer;
let redis: Redis;
let dir: string;
before(async () => {
  server = await startRedis();
  redis = new Redis(server.url);
  dir = mkdtempSync(join(tmpdir(), 'burstlet-registry-'));
});
after(async () => {
  redis.disconnect();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('detectAllocatable: cpu, memory and disk come from the host; overrides win', () => {
  const detected = detectAllocatable(join(dir, 'state'), {}, 110);
  assert.equal(detected.cpuMillis, availableParallelism() * 1000);
  assert.equal(detected.memoryBytes, totalmem());
  assert.equal(detected.pods, 110);
  assert.ok(detected.ephemeralStorageBytes > 0);
  const over = detectAllocatable(join(dir, 'state'), { cpuMillis: 1500, memoryBytes: 1 << 30 }, 3);
  assert.deepEqual({ ...over, ephemeralStorageBytes: 0 }, { cpuMillis: 1500, memoryBytes: 1 << 30, pods: 3, ephemeralStorageBytes: 0 });
});

test('Ledger: fits until the sum of requests would pass allocatable; release frees and wakes waiters', async () => {
  const ledger = new Ledger({ cpuMillis: 1000, memoryBytes: 1000, pods: 2, ephemeralStorageBytes: 0 });
  assert.ok(ledger.fits({ cpuMillis: 600, memoryBytes: 0 }));
  ledger.add('a', { cpuMillis: 600, memoryBytes: 100 });
  assert.equal(ledger.fits({ cpuMillis: 600, memoryBytes: 0 }), false);
  assert.equal(ledger.insufficient({ cpuMillis: 600, memoryBytes: 901 }), 'Insufficient cpu, Insufficient memory');
  ledger.add('b', { cpuMillis: 0, memoryBytes: 0 });
  assert.equal(ledger.hasFreeSlot(), false);
  assert.equal(ledger.insufficient({ cpuMillis: 0, memoryBytes: 0 }), 'Too many pods');
  assert.deepEqual(ledger.used(), { cpuMillis: 600, memoryBytes: 100, pods: 2, ephemeralStorageBytes: 0 });
  let woken = false;
  const waiting = ledger.changed(60_000).then(() => (woken = true));
  ledger.release('a');
  await waiting;
  assert.ok(woken);
  assert.ok(ledger.fits({ cpuMillis: 1000, memoryBytes: 1000 }), 'a freed its share and its pod slot');
  ledger.release('a');
  assert.deepEqual(ledger.used(), { cpuMillis: 0, memoryBytes: 0, pods: 1, ephemeralStorageBytes: 0 });
});

test('stableWorkerId: generated once, then read back; a given id is checked', () => {
  const state = join(dir, 'ids');
  const first = stableWorkerId(state);
  assert.match(first, /^[a-z0-9-]+-[0-9a-f]{6}$/);
  assert.equal(stableWorkerId(state), first);
  assert.equal(stableWorkerId(state, 'given-1'), 'given-1');
  assert.throws(() => stableWorkerId(state, 'bad id'), /invalid worker id/);
});

test('real redis-server: the registry entry is valid WorkerInfo with a TTL of 3 heartbeats, tracks used, and leaves on deregister', async () => {
  const keys = redisKeys(uniquePrefix('registry'));
  let used: Capacity = { cpuMillis: 0, memoryBytes: 0, pods: 0, ephemeralStorageBytes: 0 };
  const allocatable = { cpuMillis: 2000, memoryBytes: 1 << 30, pods: 10, ephemeralStorageBytes: 1 << 30 };
  const registry = new Registry({
    redis, keys, intervalMs: 1000, used: () => used, log: silentLogger(),
    info: { id: 'w1', pool: 'gpu', hostname: 'h', os: 'linux', arch: 'amd64', version: '0', labels: { zone: 'a' }, allocatable, startedAt: 1 },
  });
  await registry.register();
  const read = async () => workerInfo(JSON.parse((await redis.get(keys.worker('w1')))!));
  const first = await read();
  assert.deepEqual(first.allocatable, allocatable);
  assert.deepEqual(first.labels, { zone: 'a' });
  const ttl = await redis.pttl(keys.worker('w1'));
  assert.ok(ttl > 0 && ttl <= 3000, `ttl ${ttl}`);
  assert.equal(await redis.sismember(keys.workers('gpu'), 'w1'), 1);
  used = { cpuMillis: 500, memoryBytes: 0, pods: 1, ephemeralStorageBytes: 0 };
  await waitFor('used refreshed by the heartbeat', async () => (await redis.exists(keys.worker('w1'))) === 1 && (await read()).used.cpuMillis === 500);
  await registry.deregister();
  assert.equal(await redis.exists(keys.worker('w1')), 0);
  assert.equal(await redis.sismember(keys.workers('gpu'), 'w1'), 0);
});
