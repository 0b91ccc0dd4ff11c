import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Job } from 'bullmq';
import { Redis } from 'ioredis';
import { startRedis, type RedisServer } from '../../support/redis.ts';
import { enqueue, events, pod, queueFor, redisKeys, spawnHost, startHost, uniquePrefix, waitFor } from './support/fixtures.ts';
import { ProcessRunner } from './support/process-runner.ts';

let server: RedisServer;
let redis: Redis;
let dir: string;
before(async () => {
  server = await startRedis();
  redis = new Redis(server.url);
  dir = mkdtempSync(join(tmpdir(), 'burstlet-stalled-'));
});
after(async () => {
  redis.disconnect();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

const untilFile = (file: string) => ['sh', '-c', `while [ ! -e ${file} ]; do sleep 0.05; done`];
const state = async (queue: ReturnType<typeof queueFor>, id: string) => (await Job.fromId(queue, id))?.getState();

test('real redis+bullmq: a SIGKILLed host expires from the registry, its restartable pod runs on another host, its Never pod fails WorkerLost, seq stays monotonic', async (t) => {
  const keys = redisKeys(uniquePrefix('stalled'));
  const queue = queueFor(server.url, keys);
  const a = await spawnHost(server.url, keys.prefix);
  t.after(async () => {
    a.cleanup();
    await queue.close();
  });
  const release = join(dir, 'release');
  await enqueue(queue, pod('again', untilFile(release), { restartPolicy: 'Always' }));
  await enqueue(queue, pod('once', untilFile(release), { restartPolicy: 'Never' }));
  await waitFor('both pods running on A', async () =>
    (await redis.get(keys.podWorker('again'))) === a.options.workerId && (await redis.get(keys.podWorker('once'))) === a.options.workerId
    && (await events(redis, keys)).filter((e) => e.phase === 'Running').length === 2);
  assert.equal(await redis.sismember(keys.workers('default'), a.options.workerId), 1);

  const runnerB = new ProcessRunner();
  const b = await startHost(server.url, keys.prefix, runnerB);
  t.after(async () => {
    await b.host.shutdown('handback');
    b.cleanup();
  });
  a.child.kill('SIGKILL');
  await a.exited;
  a.killPods();

  await waitFor("A's heartbeat key expired", async () => (await redis.exists(keys.worker(a.options.workerId))) === 0);
  await waitFor('B fails the Never pod', async () => (await state(queue, 'once')) === 'completed');
  const once = await Job.fromId(queue, 'once');
  assert.deepEqual(once!.returnvalue.reason, 'WorkerLost');
  assert.equal(runnerB.starts.get('once'), undefined, 'a Never pod is not run a second time');
  await waitFor('B runs the restartable pod', () => runnerB.list().includes('again'));
  writeFileSync(release, '');
  await waitFor('the restartable pod completed on B', async () => (await state(queue, 'again')) === 'completed');
  assert.equal(runnerB.starts.get('again'), 1);
  assert.equal(await redis.get(keys.podWorker('again')), b.host.id);

  for (const uid of ['again', 'once']) {
    const evs = await events(redis, keys, uid);
    const seqs = evs.map((e) => e.seq);
    assert.deepEqual(seqs, [...seqs].sort((x, y) => x - y), `${uid}: seq increases in stream order`);
    assert.equal(new Set(seqs).size, seqs.length, `${uid}: no seq twice`);
    assert.equal(evs[0]!.workerId, a.options.workerId);
    assert.equal(evs.at(-1)!.workerId, b.host.id, `${uid}: the last word is B's`);
    assert.ok(evs.findLastIndex((e) => e.workerId === a.options.workerId) < evs.findIndex((e) => e.workerId === b.host.id));
  }
  const last = (await events(redis, keys, 'once')).at(-1)!;
  assert.equal(last.phase, 'Failed');
  assert.equal(last.reason, 'WorkerLost');
});
