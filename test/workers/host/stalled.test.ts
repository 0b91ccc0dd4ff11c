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
  // Its container is not left "running": it ends the way the kubelet reports a container it lost.
  const onceMain = last.containerStatuses![0] as any;
  assert.equal(onceMain.state.terminated.reason, 'ContainerStatusUnknown');
  assert.equal(onceMain.state.terminated.exitCode, 137);
  assert.equal(onceMain.restartCount, 0, 'nothing ran again');

  // The restartable pod continued on B from what A last published: one restart, lost with A.
  const again = await events(env.redis, keys, 'again');
  const lastOfA = again.findLast((e) => e.workerId === a.options.workerId)!;
  const aMain = lastOfA.containerStatuses![0] as any;
  assert.equal(aMain.restartCount, 0);
  for (const e of again.filter((x) => x.workerId === b.host.id)) {
    const main = e.containerStatuses![0] as any;
    assert.equal(main.restartCount, 1, `seq ${e.seq}`);
    assert.equal(main.lastState.terminated.reason, 'ContainerStatusUnknown');
    assert.equal(main.lastState.terminated.exitCode, 137);
    assert.match(main.lastState.terminated.message, new RegExp(`worker ${a.options.workerId} was lost`));
    assert.equal(main.lastState.terminated.startedAt, aMain.state.running.startedAt);
  }
  const stored = JSON.parse((await env.redis.get(keys.podStatuses('again')))!);
  assert.equal(stored.workerId, b.host.id);
  assert.equal(stored.seq, again.at(-1)!.seq, 'the stored statuses are those of the last event');
  assert.ok((await env.redis.ttl(keys.podStatuses('again'))) > 0, 'a completed pod\'s statuses expire');
});

test('real redis+bullmq: a pod lost twice (two SIGKILLed hosts) continues to restartCount 2 on the third host', async (t) => {
  const keys = redisKeys(uniquePrefix('twice'));
  const queue = queueFor(env.server.url, keys);
  const a = await spawnHost(env.server.url, keys.prefix);
  t.after(async () => {
    a.cleanup();
    await queue.close();
  });
  const release = join(env.dir, 'release-twice');
  await enqueue(queue, pod('twice', untilFile(release), { restartPolicy: 'OnFailure' }));
  const runningOn = (worker: string) => async () => (await events(env.redis, keys, 'twice')).some((e) => e.workerId === worker && e.phase === 'Running');
  await waitFor('the pod running on A', runningOn(a.options.workerId));

  const b = await spawnHost(env.server.url, keys.prefix);
  t.after(() => b.cleanup());
  a.child.kill('SIGKILL');
  await a.exited;
  a.killPods();
  await waitFor('the pod running on B', runningOn(b.options.workerId));

  const runnerC = new ProcessRunner();
  const c = await startHost(env.server.url, keys.prefix, runnerC);
  t.after(async () => {
    await c.host.shutdown('handback');
    c.cleanup();
  });
  b.child.kill('SIGKILL');
  await b.exited;
  b.killPods();
  await waitFor('C runs the pod', () => runnerC.list().includes('twice'));
  writeFileSync(release, '');
  await waitFor('the pod completed on C', async () => (await jobState(queue, 'twice')) === 'completed');
  assert.equal((await Job.fromId(queue, 'twice'))!.returnvalue.phase, 'Succeeded');

  const evs = await events(env.redis, keys, 'twice');
  const counts = (worker: string) => [...new Set(evs.filter((e) => e.workerId === worker).map((e) => (e.containerStatuses![0] as any).restartCount))];
  assert.deepEqual(counts(a.options.workerId), [0]);
  assert.deepEqual(counts(b.options.workerId), [1]);
  assert.deepEqual(counts(c.host.id), [2]);
  const last = evs.at(-1)!.containerStatuses![0] as any;
  assert.equal(last.state.terminated.exitCode, 0);
  assert.match(last.lastState.terminated.message, new RegExp(`worker ${b.options.workerId} was lost`));
});
