import assert from 'node:assert/strict';
import { after, before, test, type TestContext } from 'node:test';
import { Redis } from 'ioredis';
import { silentLogger } from '../../../src/log.ts';
import { logRecord, podStats, STATS_TTL_SECONDS } from '../../../src/schema/streams.ts';
import { POD_WORKER_TTL_SECONDS } from '../../../workers/host/job-moves.ts';
import { mergeSnapshots, RedisReporter, type ReporterOptions } from '../../../workers/host/reporter.ts';
import type { Keys } from '../../../src/keys.ts';
import type { PodSnapshot } from '../../../workers/pod-runner.ts';
import { startRedis, type RedisServer } from '../../support/redis.ts';
import { events, redisKeys, uniquePrefix, waitFor } from './support/fixtures.ts';

let server: RedisServer;
let redis: Redis;
before(async () => {
  server = await startRedis({ appendonly: true });
  redis = new Redis(server.url, { maxRetriesPerRequest: null }).on('error', () => undefined);
});
after(async () => {
  redis.disconnect();
  await server.stop();
});

const snap = (phase: PodSnapshot['phase'], note?: string): PodSnapshot => ({
  uid: 'u1', namespace: 'default', name: 'p', phase,
  ...(note ? { notes: [{ type: 'Normal' as const, reason: note, message: note, at: 1 }] } : {}),
});
const reporterConn = () => new Redis(server.url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 }).on('error', () => undefined);

/** A reporter on its own connection, once that is ready; both closed when the test ends. */
async function readyReporter(t: TestContext, keys: Keys, options: Partial<ReporterOptions>): Promise<RedisReporter> {
  const conn = reporterConn();
  await waitFor('ready', () => conn.status === 'ready');
  const reporter = new RedisReporter({ redis: conn, keys, workerId: 'w', log: silentLogger(), ...options });
  t.after(() => {
    reporter.close();
    conn.disconnect();
  });
  return reporter;
}

test('mergeSnapshots: the newer state wins and the notes of both are kept in order', () => {
  const merged = mergeSnapshots(snap('Pending', 'Pulled'), snap('Running', 'Started'));
  assert.equal(merged.phase, 'Running');
  assert.deepEqual(merged.notes!.map((n) => n.reason), ['Pulled', 'Started']);
  assert.equal(mergeSnapshots(snap('Pending'), snap('Running')).notes, undefined);
});

test('real redis-server: two workers reporting one pod get one monotonic seq; logs and stats land where the provider reads them', async (t) => {
  const keys = redisKeys(uniquePrefix('seq'));
  const connA = reporterConn();
  const connB = reporterConn();
  await Promise.all([waitFor('A ready', () => connA.status === 'ready'), waitFor('B ready', () => connB.status === 'ready')]);
  const a = new RedisReporter({ redis: connA, keys, workerId: 'wa', log: silentLogger() });
  const b = new RedisReporter({ redis: connB, keys, workerId: 'wb', log: silentLogger() });
  t.after(() => {
    a.close();
    b.close();
    connA.disconnect();
    connB.disconnect();
  });
  for (let i = 0; i < 5; i++) {
    a.status(snap('Running', `a${i}`));
    await a.drain(5000);
    b.status(snap('Running', `b${i}`));
    await b.drain(5000);
  }
  const evs = await events(redis, keys, 'u1');
  assert.deepEqual(evs.map((e) => e.seq), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.deepEqual(evs.map((e) => e.workerId), ['wa', 'wb', 'wa', 'wb', 'wa', 'wb', 'wa', 'wb', 'wa', 'wb']);
  assert.equal(await redis.get(keys.podSeq('u1')), '10');

  const pod = a.forPod('u1');
  pod.log('main', { ts: '2026-01-01T00:00:00.000000000Z', stream: 'stdout', tag: 'F', line: 'hello', attempt: 0 });
  pod.stats({ uid: 'u1', namespace: 'default', name: 'p', containers: [{ name: 'main', cpu: { usageNanoCores: 5 } }] });
  const lines = await waitFor('log line', async () => {
    const entries = await redis.xrange(keys.logs('u1', 'main'), '-', '+');
    return entries.length ? entries.map(([, f]) => logRecord(JSON.parse(f[1]!))) : undefined;
  });
  assert.equal(lines[0]!.line, 'hello');
  const stats = podStats(JSON.parse((await waitFor('stats', () => redis.get(keys.stats('u1')).then((s) => s ?? undefined)))));
  assert.equal(stats.workerId, 'wa');
  const ttl = await redis.ttl(keys.stats('u1'));
  assert.ok(ttl > 0 && ttl <= STATS_TTL_SECONDS);
});

test('real redis-server: while Redis is down the latest snapshot is kept (with every note) and sent when it is back', async (t) => {
  const keys = redisKeys(uniquePrefix('down'));
  const conn = reporterConn();
  await waitFor('ready', () => conn.status === 'ready');
  const reporter = new RedisReporter({ redis: conn, keys, workerId: 'w', log: silentLogger(), retryMs: 100 });
  t.after(() => {
    reporter.close();
    conn.disconnect();
  });
  reporter.status(snap('Pending', 'Scheduled'));
  assert.equal(await reporter.drain(5000), true);
  await server.crash();
  await waitFor('connection lost', () => conn.status !== 'ready');
  reporter.status(snap('Running', 'Started'));
  reporter.status(snap('Succeeded', 'Completed'));
  reporter.forPod('u1').log('main', { ts: 'x', stream: 'stdout', tag: 'F', line: 'lost', attempt: 0 });
  assert.equal(reporter.droppedLogs, 1);
  assert.equal(await reporter.drain(300), false, 'nothing can be sent while Redis is down');
  await server.restart();
  assert.equal(await reporter.drain(20_000), true);
  const evs = await events(redis, keys, 'u1');
  assert.deepEqual(evs.map((e) => e.seq), [1, 2]);
  assert.equal(evs[1]!.phase, 'Succeeded');
  assert.deepEqual(evs[1]!.notes!.map((n) => n.reason), ['Started', 'Completed']);
});

test('real redis-server: a snapshot that cannot be serialised never throws into the runner, and later ones still go out', async (t) => {
  const keys = redisKeys(uniquePrefix('bad'));
  const reporter = await readyReporter(t, keys, { workerId: 'w' });
  const pod = reporter.forPod('u1');
  assert.doesNotThrow(() => pod.status({ ...snap('Running'), message: 1n as unknown as string }));
  pod.status(snap('Succeeded'));
  assert.equal(await reporter.drain(5000), true);
  assert.deepEqual((await events(redis, keys, 'u1')).map((e) => [e.seq, e.phase]), [[1, 'Succeeded']]);
});

test("real redis-server: container statuses are stored with their event's seq only while keys.podWorker names the worker; a terminal snapshot gives them a TTL", async (t) => {
  const keys = redisKeys(uniquePrefix('statuses'));
  const reporter = await readyReporter(t, keys, { workerId: 'wa' });
  const main = (restartCount: number, state: object) => ({ name: 'main', state, lastState: {}, ready: false, restartCount });
  const withStatuses = (phase: PodSnapshot['phase'], restartCount: number, state: object): PodSnapshot => ({ ...snap(phase), containerStatuses: [main(restartCount, state)] });
  const stored = async () => JSON.parse((await redis.get(keys.podStatuses('u1'))) ?? 'null');
  const send = async (s: PodSnapshot) => {
    reporter.status(s);
    assert.equal(await reporter.drain(5000), true);
  };

  await send(withStatuses('Running', 0, { running: { startedAt: '2026-01-01T00:00:00Z' } }));
  assert.equal(await stored(), null, 'not the pod worker (keys.podWorker unset): nothing stored');

  await redis.set(keys.podWorker('u1'), 'wa');
  await send(withStatuses('Running', 3, { running: { startedAt: '2026-01-01T00:00:00Z' } }));
  assert.deepEqual(await stored(), { seq: 2, workerId: 'wa', containerStatuses: [main(3, { running: { startedAt: '2026-01-01T00:00:00Z' } })] });
  assert.equal(await redis.ttl(keys.podStatuses('u1')), -1, 'no TTL while the pod runs');

  await send(snap('Pending', 'Rescheduled'));
  assert.equal((await stored()).seq, 2, 'a snapshot without container statuses leaves them');

  await send(withStatuses('Succeeded', 3, { terminated: { exitCode: 0, reason: 'Completed' } }));
  assert.equal((await stored()).seq, 4);
  const ttl = await redis.ttl(keys.podStatuses('u1'));
  assert.ok(ttl > 0 && ttl <= POD_WORKER_TTL_SECONDS, `ttl ${ttl}`);

  await redis.set(keys.podWorker('u1'), 'wb');
  await send(withStatuses('Running', 0, { running: { startedAt: '2026-01-02T00:00:00Z' } }));
  assert.equal((await stored()).seq, 4, 'another worker claimed the pod: a late snapshot of ours is not stored');
  assert.deepEqual((await events(redis, keys, 'u1')).map((e) => e.seq), [1, 2, 3, 4, 5], 'every event is still published');
});

test('real redis-server: snapshots close together go out as one event with every note; flush sends at once and resolves once published', async (t) => {
  const keys = redisKeys(uniquePrefix('coalesce'));
  // A long delay, so only flush can send within the test: no timing is asserted.
  const r = await readyReporter(t, keys, { workerId: 'w', coalesceMs: 60_000 });
  r.status(snap('Pending', 'Scheduled'));
  r.status(snap('Running', 'Started'));
  assert.deepEqual(await events(redis, keys, 'u1'), [], 'nothing is sent before the delay or a flush');
  await r.flush('u1');
  let evs = await events(redis, keys, 'u1');
  assert.deepEqual(evs.map((e) => [e.seq, e.phase, e.notes?.map((n) => n.reason)]), [[1, 'Running', ['Scheduled', 'Started']]]);

  r.status(snap('Succeeded', 'Completed'));
  await r.flush('u1');
  await r.flush('u1'); // nothing pending: resolves at once
  evs = await events(redis, keys, 'u1');
  assert.deepEqual(evs.map((e) => [e.seq, e.phase]), [[1, 'Running'], [2, 'Succeeded']]);
  assert.equal(await r.drain(5000), true);
});

test('real redis-server: a terminal snapshot is held for the teardown that follows it: one event, sent by the flush', async (t) => {
  const keys = redisKeys(uniquePrefix('hold'));
  // Running goes at once; a terminal snapshot waits (a long hold: only flush sends it here).
  const r = await readyReporter(t, keys, { workerId: 'w', coalesceMs: 0, terminalHoldMs: 60_000 });
  r.status(snap('Running', 'Started'));
  await waitFor('the running event', async () => (await events(redis, keys, 'u1')).length === 1);
  r.status(snap('Succeeded', 'Completed'));
  r.status(snap('Succeeded', 'SandboxChanged'));
  assert.deepEqual((await events(redis, keys, 'u1')).map((e) => e.phase), ['Running'], 'the terminal snapshot waits');
  await r.flush('u1');
  const evs = await events(redis, keys, 'u1');
  assert.deepEqual(evs.map((e) => [e.seq, e.phase, e.notes?.map((n) => n.reason)]), [[1, 'Running', ['Started']], [2, 'Succeeded', ['Completed', 'SandboxChanged']]]);
  assert.equal(await r.drain(5000), true);
});

test('real redis-server: a snapshot of a pod whose sandbox is being made waits for the next one: one event with both', async (t) => {
  const keys = redisKeys(uniquePrefix('start'));
  // No coalescing, a long start hold: only the next snapshot (or a flush) lets it go.
  const r = await readyReporter(t, keys, { workerId: 'w', coalesceMs: 0, startHoldMs: 60_000 });
  const sandbox = (ready: boolean, note: string): PodSnapshot => ({
    ...snap('Pending', note), conditions: [{ type: 'PodReadyToStartContainers', status: ready ? 'True' : 'False' }],
  });
  r.status(sandbox(false, 'Scheduled'));
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(await events(redis, keys, 'u1'), [], 'held while the sandbox is made');
  r.status(sandbox(true, 'SandboxReady'));
  const evs = await waitFor('the event', async () => {
    const e = await events(redis, keys, 'u1');
    return e.length ? e : undefined;
  });
  assert.deepEqual(evs.map((e) => [e.seq, e.conditions?.[0]?.status, e.notes?.map((n) => n.reason)]), [[1, 'True', ['Scheduled', 'SandboxReady']]]);
  // A pod that ends before its sandbox is up: the failure goes without a hold.
  r.status({ ...snap('Pending', 'Scheduled'), uid: 'u2' });
  r.status({ ...snap('Failed', 'FailedCreatePodSandBox'), uid: 'u2' });
  await r.flush('u2');
  assert.deepEqual((await events(redis, keys, 'u2')).map((e) => [e.phase, e.notes?.map((n) => n.reason)]), [['Failed', ['Scheduled', 'FailedCreatePodSandBox']]]);
  assert.equal(await r.drain(5000), true);
});

test('real redis-server: with the default delay a snapshot goes out by itself', async (t) => {
  const keys = redisKeys(uniquePrefix('delay'));
  const r = await readyReporter(t, keys, { workerId: 'w' });
  r.status(snap('Running', 'Started'));
  const evs = await waitFor('the event', async () => {
    const e = await events(redis, keys, 'u1');
    return e.length ? e : undefined;
  });
  assert.deepEqual(evs.map((e) => e.phase), ['Running']);
  r.status(snap('Succeeded', 'Completed')); // held longer, but not forever without a flush
  await waitFor('the terminal event', async () => (await events(redis, keys, 'u1')).length === 2);
  assert.equal(await r.drain(5000), true);
});
