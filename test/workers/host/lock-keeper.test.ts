import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Job } from 'bullmq';
import { Redis } from 'ioredis';
import { startRedis } from '../../support/redis.ts';
import { enqueue, events, pod, queueFor, redisKeys, startHost, uniquePrefix, waitFor, forever } from './support/fixtures.ts';
import { ProcessRunner } from './support/process-runner.ts';


test('real redis+bullmq: a host whose job lock was taken over stops its pod and leaves the job to the new holder', async (t) => {
  const server = await startRedis();
  const redis = new Redis(server.url);
  const keys = redisKeys(uniquePrefix('fence'));
  const runner = new ProcessRunner();
  const { host, cleanup } = await startHost(server.url, keys.prefix, runner);
  const queue = queueFor(server.url, keys);
  t.after(async () => {
    await host.shutdown('handback');
    await queue.close();
    redis.disconnect();
    await server.stop();
    cleanup();
  });
  await enqueue(queue, pod('l1', forever));
  await waitFor('l1 running', async () => runner.list().includes('l1') && (await events(redis, keys, 'l1')).some((e) => e.phase === 'Running'));
  // What another host holding the job looks like: BullMQ's lock key (internal layout) with its token.
  await redis.set(`${keys.prefix}:${keys.queue('default')}:l1:lock`, 'another-host', 'PX', 60_000);
  await waitFor('l1 stopped here', () => !runner.list().includes('l1'));
  await waitFor('ledger freed', () => host.info().used.pods === 0);
  assert.equal(await (await Job.fromId(queue, 'l1'))!.getState(), 'active', 'the job is the new holder\'s');
  const last = (await events(redis, keys, 'l1')).at(-1)!;
  assert.ok(last.phase !== 'Failed' && last.phase !== 'Succeeded', 'no terminal state reported for a pod that lives on elsewhere');
});

test('real redis+bullmq: with Redis gone longer than the lock duration the host stops its pod; back online, the lost Never pod ends WorkerLost', async (t) => {
  const server = await startRedis({ appendonly: true });
  const keys = redisKeys(uniquePrefix('partition'));
  const runner = new ProcessRunner();
  const { host, cleanup } = await startHost(server.url, keys.prefix, runner);
  const queue = queueFor(server.url, keys);
  t.after(async () => {
    await host.shutdown('handback');
    await queue.close();
    await server.stop();
    cleanup();
  });
  await enqueue(queue, pod('p1', forever));
  await waitFor('p1 running', () => runner.list().includes('p1'));
  await server.crash();
  await waitFor('p1 stopped while Redis is down', () => !runner.list().includes('p1'));
  await server.restart();
  await waitFor('p1 settled', async () => (await (await Job.fromId(queue, 'p1'))?.getState()) === 'completed', 30_000);
  assert.equal((await Job.fromId(queue, 'p1'))!.returnvalue.reason, 'WorkerLost');
  assert.equal(runner.starts.get('p1'), 1);
});

test('a renewal that fails because our own completion released the lock fences nothing', async () => {
  const lost: string[] = [];
  const logged: string[] = [];
  const log = { warn: (_o: unknown, m: string) => logged.push(m) } as unknown as import('pino').Logger;
  // The job's lock is gone from Redis (completed by us) while a renewal is in flight.
  const worker = { extendJobLocks: async (ids: string[]) => ids };
  const { LockKeeper } = await import('../../../workers/host/lock-keeper.ts');
  const keeper = new LockKeeper({ worker, token: 'w1', lockDurationMs: 30_000, log, onLost: (id) => lost.push(id) });
  keeper.track('done');
  keeper.track('taken');
  keeper.settling('done');
  await keeper.renew();
  assert.deepEqual(lost, ['taken'], 'only the lock another host took is fenced');
  assert.ok(keeper.holds('done'), 'still ours until the move settles');
  keeper.untrack('done');
  keeper.settling('done'); // after untrack: no effect
  assert.equal(keeper.holds('done'), false);
});
