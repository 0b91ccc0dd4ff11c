import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Job } from 'bullmq';
import { jobProgress } from '../../../src/schema/job-progress.ts';
import { enqueue, events, hostWithQueue, pod, untilFile, useRedisAndDir, waitFor } from './support/fixtures.ts';
import { ProcessRunner } from './support/process-runner.ts';

const env = useRedisAndDir('consumer');

test('real redis+bullmq: a pod is claimed only when it fits (two 600m pods on 1 CPU: the second waits)', async (t) => {
  const runner = new ProcessRunner();
  const { keys, host, queue } = await hostWithQueue(t, env.server.url, 'fits', runner, { allocatable: { cpuMillis: 1000 } });
  const release = join(env.dir, 'release-fits');
  await enqueue(queue, pod('a', untilFile(release), { cpuMillis: 600 }));
  await waitFor('pod a running', () => runner.list().includes('a'));
  assert.equal(host.info().used.cpuMillis, 600);
  const b = pod('b', ['true'], { cpuMillis: 600 });
  await enqueue(queue, b);
  const progress = await waitFor('b handed back as unschedulable', async () => {
    const job = await Job.fromId(queue, 'b');
    return job?.progress && typeof job.progress === 'object' ? jobProgress(job.progress) : undefined;
  });
  assert.equal(progress.state, 'unschedulable');
  assert.equal(progress.reason, 'Insufficient cpu');
  assert.equal(progress.workerId, host.id);
  assert.equal(runner.starts.get('b'), undefined, 'b never started while a holds 600m of 1000m');
  assert.equal(await env.redis.get(keys.podWorker('b')), null);
  const waiting = await Job.fromId(queue, 'b');
  assert.equal(waiting!.attemptsMade, 0, 'handing back leaves the job untouched');
  assert.deepEqual(waiting!.data, b);
  assert.ok(['delayed', 'waiting', 'active'].includes(await waiting!.getState()));

  writeFileSync(release, '');
  await waitFor('b completed', async () => (await (await Job.fromId(queue, 'b'))!.getState()) === 'completed');
  const a = await Job.fromId(queue, 'a');
  assert.equal(await a!.getState(), 'completed');
  assert.deepEqual(a!.returnvalue, { phase: 'Succeeded' });
  assert.equal(runner.starts.get('b'), 1);
  assert.equal(await env.redis.get(keys.podWorker('b')), host.id);
  const bEvents = await events(env.redis, keys, 'b');
  assert.equal(bEvents.at(-1)!.phase, 'Succeeded');
  assert.ok(bEvents.every((e) => e.workerId === host.id));
});

test('real redis+bullmq: 10 pods of 1 CPU on 4 allocatable: 4 run, the others wait with a reason, then all run; never more than 4', async (t) => {
  const runner = new ProcessRunner();
  const { keys, host, queue } = await hostWithQueue(t, env.server.url, 'ten', runner, { allocatable: { cpuMillis: 4000 } });
  const release = join(env.dir, 'release-ten');
  const uids = Array.from({ length: 10 }, (_, i) => `ten-${i}`);
  for (const uid of uids) await enqueue(queue, pod(uid, untilFile(release), { cpuMillis: 1000 }));
  await waitFor('4 running and a waiting pod told why', async () => {
    if (runner.list().length !== 4) return false;
    for (const uid of uids) {
      const p = (await Job.fromId(queue, uid))?.progress;
      if (p && typeof p === 'object' && jobProgress(p).state === 'unschedulable') return true;
    }
    return false;
  });
  assert.equal(host.info().used.cpuMillis, 4000);
  writeFileSync(release, '');
  await waitFor('all 10 completed', async () => (await queue.getJobCountByTypes('completed')) === 10);
  assert.equal(runner.maxConcurrent, 4, 'never overcommitted');
  assert.deepEqual([...runner.starts.values()], Array(10).fill(1));
});

test('real redis+bullmq: a completion takes the next waiting job in the same call (fetchNext), one pod per slot at a time', async (t) => {
  const runner = new ProcessRunner();
  const { queue } = await hostWithQueue(t, env.server.url, 'handover', runner, { allocatable: { pods: 1 } });
  const release = join(env.dir, 'release-handover');
  const uids = Array.from({ length: 4 }, (_, i) => `handover-${i}`);
  for (const uid of uids) await enqueue(queue, pod(uid, untilFile(release)));
  await waitFor('the first pod running', () => runner.list().length === 1);
  writeFileSync(release, '');
  await waitFor('all 4 completed', async () => (await queue.getJobCountByTypes('completed')) === 4);
  assert.equal(runner.maxConcurrent, 1, 'one slot: never two pods at once');
  const jobs = (await Promise.all(uids.map((uid) => Job.fromId(queue, uid)))).sort((a, b) => a!.processedOn! - b!.processedOn!);
  // BullMQ stamps the next job's processedOn with the completion's own timestamp when the
  // completing call moved it to active; a separate claim would be a later call.
  for (let i = 1; i < jobs.length; i++) {
    assert.equal(jobs[i]!.processedOn, jobs[i - 1]!.finishedOn, `${jobs[i]!.id} was handed over by ${jobs[i - 1]!.id}'s completion`);
  }
});

test('real redis+bullmq: job id = pod UID, so enqueuing a pod twice runs it once', async (t) => {
  const runner = new ProcessRunner();
  const { keys, host, queue } = await hostWithQueue(t, env.server.url, 'dedupe', runner);
  const p = pod('d1', ['true']);
  await enqueue(queue, p);
  await enqueue(queue, p);
  await waitFor('d1 completed', async () => (await (await Job.fromId(queue, 'd1'))!.getState()) === 'completed');
  await enqueue(queue, p);
  // One host takes jobs in order: once the next pod is done, a duplicate would have run first.
  await enqueue(queue, pod('d2', ['true']));
  await waitFor('d2 completed', async () => (await (await Job.fromId(queue, 'd2'))?.getState()) === 'completed');
  assert.equal(runner.starts.get('d1'), 1);
  assert.equal(await queue.getJobCountByTypes('completed'), 2);
});

test('real redis+bullmq: a malformed job is dead-lettered and failed unrecoverably; the host carries on', async (t) => {
  const runner = new ProcessRunner();
  const { keys, host, queue } = await hostWithQueue(t, env.server.url, 'malformed', runner);
  await enqueue(queue, { version: 1, uid: 'm1', containers: 'nope' }, 'm1');
  await enqueue(queue, pod('someone-else', ['true']), 'm2');
  await enqueue(queue, pod('ok', ['true']));
  await waitFor('ok completed', async () => (await (await Job.fromId(queue, 'ok'))?.getState()) === 'completed');
  for (const id of ['m1', 'm2']) {
    const job = await Job.fromId(queue, id);
    assert.equal(await job!.getState(), 'failed');
    assert.match(job!.failedReason, /^malformed PodJob: /);
  }
  const dead = (await env.redis.xrange(keys.deadLetter, '-', '+')).map(([, f]) => Object.fromEntries([[f[0], f[1]], [f[2], f[3]], [f[4], f[5]], [f[6], f[7]]]));
  assert.deepEqual(dead.map((d) => d.id), ['m1', 'm2']);
  assert.equal(dead[0]!.source, `${keys.prefix}:${keys.queue('default')}`);
  assert.match(dead[0]!.error!, /namespace: expected a string/);
  assert.deepEqual(JSON.parse(dead[0]!.payload!), { version: 1, uid: 'm1', containers: 'nope' });
  assert.match(dead[1]!.error!, /not the pod UID/);
  assert.deepEqual([...runner.starts.keys()], ['ok'], 'only the valid pod ran');
});
