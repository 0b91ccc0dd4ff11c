import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Job } from 'bullmq';
import { enqueue, events, jobState, pod, queueFor, redisKeys, spawnHost, startHost, uniquePrefix, untilFile, useRedisAndDir, waitFor } from './support/fixtures.ts';
import { ProcessRunner } from './support/process-runner.ts';

const env = useRedisAndDir('shutdown');

test('real redis+bullmq: shutdown "finish" stops claiming, lets the running pod end, completes it, deregisters', async (t) => {
  const keys = redisKeys(uniquePrefix('finish'));
  const queue = queueFor(env.server.url, keys);
  const runnerA = new ProcessRunner();
  const a = await startHost(env.server.url, keys.prefix, runnerA);
  t.after(async () => {
    await queue.close();
    a.cleanup();
  });
  const release = join(env.dir, 'release-finish');
  await enqueue(queue, pod('f1', untilFile(release)));
  await waitFor('f1 running on A', () => runnerA.list().includes('f1'));
  let finished = false;
  const stopping = a.host.shutdown('finish').then(() => (finished = true));
  await enqueue(queue, pod('f2', ['true']));
  // A no longer claims: f2 is run by a host started now, while f1 still runs on A.
  const runnerB = new ProcessRunner();
  const b = await startHost(env.server.url, keys.prefix, runnerB);
  t.after(async () => {
    await b.host.shutdown('handback');
    b.cleanup();
  });
  await waitFor('f2 completed', async () => (await jobState(queue, 'f2')) === 'completed');
  assert.equal(runnerB.starts.get('f2'), 1);
  assert.equal(runnerA.starts.get('f2'), undefined);
  assert.equal(finished, false, 'shutdown waits for the running pod');
  assert.ok(runnerA.list().includes('f1'));
  writeFileSync(release, '');
  await stopping;
  assert.equal(await jobState(queue, 'f1'), 'completed');
  assert.deepEqual((await Job.fromId(queue, 'f1'))!.returnvalue, { phase: 'Succeeded' });
  assert.equal((await events(env.redis, keys, 'f1')).at(-1)!.phase, 'Succeeded');
  assert.equal(await env.redis.exists(keys.worker(a.host.id)), 0, 'deregistered');
  assert.equal(await env.redis.sismember(keys.workers('default'), a.host.id), 0);
});

test('real redis+bullmq: SIGTERM with shutdown "handback" stops the pod, returns its job, another host runs it; exit 0', async (t) => {
  const keys = redisKeys(uniquePrefix('handback'));
  const queue = queueFor(env.server.url, keys);
  const a = await spawnHost(env.server.url, keys.prefix, { shutdown: 'handback' });
  t.after(async () => {
    a.cleanup();
    await queue.close();
  });
  const release = join(env.dir, 'release-handback');
  await enqueue(queue, pod('h1', untilFile(release)));
  await waitFor('h1 running on A', async () => (await events(env.redis, keys, 'h1')).some((e) => e.phase === 'Running'));
  const runnerB = new ProcessRunner();
  const b = await startHost(env.server.url, keys.prefix, runnerB);
  t.after(async () => {
    await b.host.shutdown('handback');
    b.cleanup();
  });
  a.child.kill('SIGTERM');
  assert.equal(await a.exited, 0, 'clean exit after SIGTERM');
  assert.equal(await env.redis.exists(keys.worker(a.options.workerId)), 0, 'deregistered');
  await waitFor('h1 running on B', () => runnerB.list().includes('h1'));
  writeFileSync(release, '');
  await waitFor('h1 completed', async () => (await jobState(queue, 'h1')) === 'completed');
  const job = await Job.fromId(queue, 'h1');
  assert.equal(job!.attemptsMade, 1, 'one completed attempt; the hand-back did not count as one');
  const evs = await events(env.redis, keys, 'h1');
  const fromA = evs.filter((e) => e.workerId === a.options.workerId);
  assert.ok(fromA.every((e) => e.phase === 'Pending' || e.phase === 'Running'), 'A never reported the handed-back pod as over');
  assert.equal(fromA.at(-1)!.reason, 'Rescheduled');
  assert.equal(evs.at(-1)!.phase, 'Succeeded');
  assert.equal(evs.at(-1)!.workerId, b.host.id);
});
