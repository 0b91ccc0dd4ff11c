import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Job } from 'bullmq';
import { enqueue, events, jobState, pod, queueFor, redisKeys, spawnHost, startHost, uniquePrefix, untilFile, useRedisAndDir, waitFor } from './support/fixtures.ts';
import { ProcessRunner } from './support/process-runner.ts';

const env = useRedisAndDir('stalled');

test('real redis+bullmq: a SIGKILLed host expires from the registry, its restartable pod runs on another host, its Never pod fails WorkerLost, seq stays monotonic', async (t) => {
  const keys = redisKeys(uniquePrefix('stalled'));
  const queue = queueFor(env.server.url, keys);
  const a = await spawnHost(env.server.url, keys.prefix);
  t.after(async () => {
    a.cleanup();
    await queue.close();
  });
  const release = join(env.dir, 'release');
  await enqueue(queue, pod('again', untilFile(release), { restartPolicy: 'Always' }));
  await enqueue(queue, pod('once', untilFile(release), { restartPolicy: 'Never' }));
  await waitFor('both pods running on A', async () =>
    (await env.redis.get(keys.podWorker('again'))) === a.options.workerId && (await env.redis.get(keys.podWorker('once'))) === a.options.workerId
    && (await events(env.redis, keys)).filter((e) => e.phase === 'Running').length === 2);
  assert.equal(await env.redis.sismember(keys.workers('default'), a.options.workerId), 1);

  const runnerB = new ProcessRunner();
  const b = await startHost(env.server.url, keys.prefix, runnerB);
  t.after(async () => {
    await b.host.shutdown('handback');
    b.cleanup();
  });
  a.child.kill('SIGKILL');
  await a.exited;
  a.killPods();

  await waitFor("A's heartbeat key expired", async () => (await env.redis.exists(keys.worker(a.options.workerId))) === 0);
  await waitFor('B fails the Never pod', async () => (await jobState(queue, 'once')) === 'completed');
  const once = await Job.fromId(queue, 'once');
  assert.deepEqual(once!.returnvalue.reason, 'WorkerLost');
  assert.equal(runnerB.starts.get('once'), undefined, 'a Never pod is not run a second time');
  await waitFor('B runs the restartable pod', () => runnerB.list().includes('again'));
  writeFileSync(release, '');
  await waitFor('the restartable pod completed on B', async () => (await jobState(queue, 'again')) === 'completed');
  assert.equal(runnerB.starts.get('again'), 1);
  assert.equal(await env.redis.get(keys.podWorker('again')), b.host.id);

  for (const uid of ['again', 'once']) {
    const evs = await events(env.redis, keys, uid);
    const seqs = evs.map((e) => e.seq);
    assert.deepEqual(seqs, [...seqs].sort((x, y) => x - y), `${uid}: seq increases in stream order`);
    assert.equal(new Set(seqs).size, seqs.length, `${uid}: no seq twice`);
    assert.equal(evs[0]!.workerId, a.options.workerId);
    assert.equal(evs.at(-1)!.workerId, b.host.id, `${uid}: the last word is B's`);
    assert.ok(evs.findLastIndex((e) => e.workerId === a.options.workerId) < evs.findIndex((e) => e.workerId === b.host.id));
  }
  const last = (await events(env.redis, keys, 'once')).at(-1)!;
  assert.equal(last.phase, 'Failed');
  assert.equal(last.reason, 'WorkerLost');
});
