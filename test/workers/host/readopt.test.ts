import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Job } from 'bullmq';
import { enqueue, events, jobState, pod, queueFor, redisKeys, startHost, uniquePrefix, untilFile, useRedisAndDir, waitFor } from './support/fixtures.ts';
import { ProcessRunner } from './support/process-runner.ts';

const env = useRedisAndDir('readopt');

test('real redis+bullmq: a host restarted within the lock duration re-adopts its running pod and completes its job', async (t) => {
  const keys = redisKeys(uniquePrefix('readopt'));
  const queue = queueFor(env.server.url, keys);
  // The runner outlives the host, as the runtime's containers outlive a host restart.
  const runner = new ProcessRunner();
  const timing = { workerId: 'w-restart', lockDurationMs: 10_000 };
  const first = await startHost(env.server.url, keys.prefix, runner, timing);
  t.after(async () => {
    await runner.close();
    await queue.close();
    first.cleanup();
  });
  const release = join(env.dir, 'release-readopt');
  await enqueue(queue, pod('r1', untilFile(release)));
  await waitFor('r1 running', () => runner.list().includes('r1'));
  await first.host.abandon();

  const second = await startHost(env.server.url, keys.prefix, runner, timing);
  t.after(async () => {
    await second.host.shutdown('handback');
    second.cleanup();
  });
  assert.deepEqual(second.host.pods(), ['r1'], 're-adopted at start');
  assert.equal(second.host.info().used.pods, 1);
  assert.equal(await jobState(queue, 'r1'), 'active');
  writeFileSync(release, '');
  await waitFor('r1 completed', async () => (await jobState(queue, 'r1')) === 'completed');
  assert.equal(runner.starts.get('r1'), 1, 'never started twice');
  assert.deepEqual((await Job.fromId(queue, 'r1'))!.returnvalue, { phase: 'Succeeded' });
  assert.equal((await events(env.redis, keys, 'r1')).at(-1)!.phase, 'Succeeded');
});

test('real redis+bullmq: a host restarted after its lock expired stops its copy; the Never pod ends WorkerLost', async (t) => {
  const keys = redisKeys(uniquePrefix('late'));
  const queue = queueFor(env.server.url, keys);
  const runner = new ProcessRunner();
  const first = await startHost(env.server.url, keys.prefix, runner, { workerId: 'w-late' });
  t.after(async () => {
    await runner.close();
    await queue.close();
    first.cleanup();
  });
  await enqueue(queue, pod('r2', untilFile(join(env.dir, 'never-released'))));
  await waitFor('r2 running', () => runner.list().includes('r2'));
  await first.host.abandon();
  // BullMQ's lock key of the job (its internal layout, read here only to wait for the expiry).
  await waitFor('lock expired', async () => (await env.redis.exists(`${keys.prefix}:${keys.queue('default')}:r2:lock`)) === 0);

  const second = await startHost(env.server.url, keys.prefix, runner, { workerId: 'w-late' });
  t.after(async () => {
    await second.host.shutdown('handback');
    second.cleanup();
  });
  await waitFor('r2 settled', async () => (await jobState(queue, 'r2')) === 'completed');
  assert.equal(runner.list().length, 0, 'the stale copy was stopped');
  assert.equal(runner.starts.get('r2'), 1);
  assert.equal((await Job.fromId(queue, 'r2'))!.returnvalue.reason, 'WorkerLost');
});
