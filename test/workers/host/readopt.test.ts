import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Job } from 'bullmq';
import { Redis } from 'ioredis';
import { startRedis, type RedisServer } from '../../support/redis.ts';
import { enqueue, events, pod, queueFor, redisKeys, startHost, uniquePrefix, waitFor } from './support/fixtures.ts';
import { ProcessRunner } from './support/process-runner.ts';

let server: RedisServer;
let redis: Redis;
let dir: string;
before(async () => {
  server = await startRedis();
  redis = new Redis(server.url);
  dir = mkdtempSync(join(tmpdir(), 'burstlet-readopt-'));
});
after(async () => {
  redis.disconnect();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

const untilFile = (file: string) => ['sh', '-c', `while [ ! -e ${file} ]; do sleep 0.05; done`];
const state = async (queue: ReturnType<typeof queueFor>, id: string) => (await Job.fromId(queue, id))?.getState();

test('real redis+bullmq: a host restarted within the lock duration re-adopts its running pod and completes its job', async (t) => {
  const keys = redisKeys(uniquePrefix('readopt'));
  const queue = queueFor(server.url, keys);
  // The runner outlives the host, as the runtime's containers outlive a host restart.
  const runner = new ProcessRunner();
  const timing = { workerId: 'w-restart', lockDurationMs: 10_000 };
  const first = await startHost(server.url, keys.prefix, runner, timing);
  t.after(async () => {
    await runner.close();
    await queue.close();
    first.cleanup();
  });
  const release = join(dir, 'release-readopt');
  await enqueue(queue, pod('r1', untilFile(release)));
  await waitFor('r1 running', () => runner.list().includes('r1'));
  await first.host.abandon();

  const second = await startHost(server.url, keys.prefix, runner, timing);
  t.after(async () => {
    await second.host.shutdown('handback');
    second.cleanup();
  });
  assert.deepEqual(second.host.pods(), ['r1'], 're-adopted at start');
  assert.equal(second.host.info().used.pods, 1);
  assert.equal(await state(queue, 'r1'), 'active');
  writeFileSync(release, '');
  await waitFor('r1 completed', async () => (await state(queue, 'r1')) === 'completed');
  assert.equal(runner.starts.get('r1'), 1, 'never started twice');
  assert.deepEqual((await Job.fromId(queue, 'r1'))!.returnvalue, { phase: 'Succeeded' });
  assert.equal((await events(redis, keys, 'r1')).at(-1)!.phase, 'Succeeded');
});

test('real redis+bullmq: a host restarted after its lock expired stops its copy; the Never pod ends WorkerLost', async (t) => {
  const keys = redisKeys(uniquePrefix('late'));
  const queue = queueFor(server.url, keys);
  const runner = new ProcessRunner();
  const first = await startHost(server.url, keys.prefix, runner, { workerId: 'w-late' });
  t.after(async () => {
    await runner.close();
    await queue.close();
    first.cleanup();
  });
  await enqueue(queue, pod('r2', untilFile(join(dir, 'never-released'))));
  await waitFor('r2 running', () => runner.list().includes('r2'));
  await first.host.abandon();
  // BullMQ's lock key of the job (its internal layout, read here only to wait for the expiry).
  await waitFor('lock expired', async () => (await redis.exists(`${keys.prefix}:${keys.queue('default')}:r2:lock`)) === 0);

  const second = await startHost(server.url, keys.prefix, runner, { workerId: 'w-late' });
  t.after(async () => {
    await second.host.shutdown('handback');
    second.cleanup();
  });
  await waitFor('r2 settled', async () => (await state(queue, 'r2')) === 'completed');
  assert.equal(runner.list().length, 0, 'the stale copy was stopped');
  assert.equal(runner.starts.get('r2'), 1);
  assert.equal((await Job.fromId(queue, 'r2'))!.returnvalue.reason, 'WorkerLost');
});
