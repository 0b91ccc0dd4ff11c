import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Job } from 'bullmq';
import { Redis } from 'ioredis';
import { execOutput, type ExecOutput } from '../../../src/schema/streams.ts';
import { publish } from '../../../src/streams.ts';
import { startRedis, type RedisServer } from '../../support/redis.ts';
import { enqueue, events, forever, hostWithQueue, pod, redisKeys, waitFor } from './support/fixtures.ts';
import { ProcessRunner } from './support/process-runner.ts';

let server: RedisServer;
let redis: Redis;
before(async () => {
  server = await startRedis();
  redis = new Redis(server.url);
});
after(async () => {
  redis.disconnect();
  await server.stop();
});


/** Reads an exec session's output records until `exit` or `error`. */
async function readSession(keys: ReturnType<typeof redisKeys>, sessionId: string): Promise<ExecOutput[]> {
  return waitFor(`exec ${sessionId} ended`, async () => {
    const records = (await redis.xrange(keys.execOutput(sessionId), '-', '+')).map(([, f]) => execOutput(JSON.parse(f[1]!)));
    return records.some((r) => r.kind === 'exit' || r.kind === 'error') ? records : undefined;
  });
}
const text = (records: ExecOutput[], kind: string) => Buffer.concat(records.filter((r) => r.kind === kind).map((r) => Buffer.from(r.dataBase64 ?? '', 'base64'))).toString();

test('real redis+bullmq: stop via the control stream ends the pod and completes its job; a repeated stop is harmless', async (t) => {
  const runner = new ProcessRunner();
  const { keys, host, queue } = await hostWithQueue(t, server.url, 'stop', runner);
  await enqueue(queue, pod('s1', forever));
  await waitFor('s1 running', () => runner.list().includes('s1'));
  const control = keys.control((await redis.get(keys.podWorker('s1')))!);
  await publish(redis, control, { kind: 'stop', uid: 's1', gracePeriodSeconds: 5, reason: 'deleted' });
  await waitFor('s1 completed', async () => (await (await Job.fromId(queue, 's1'))!.getState()) === 'completed');
  assert.equal(runner.list().length, 0);
  assert.equal((await Job.fromId(queue, 's1'))!.returnvalue.phase, 'Failed');
  assert.equal((await events(redis, keys, 's1')).at(-1)!.phase, 'Failed');
  await publish(redis, control, { kind: 'stop', uid: 's1', gracePeriodSeconds: 0 });
  await enqueue(queue, pod('s2', ['true']));
  await waitFor('s2 completed', async () => (await (await Job.fromId(queue, 's2'))?.getState()) === 'completed');
  assert.equal(runner.starts.get('s1'), 1);
});

test('real redis+bullmq: malformed control messages go to dead-letter; exec pumps stdin in and stdout/stderr/exit out', async (t) => {
  const runner = new ProcessRunner();
  const { keys, host, queue } = await hostWithQueue(t, server.url, 'exec', runner);
  const control = keys.control(host.id);
  const bad = await redis.xadd(control, '*', 'm', JSON.stringify({ kind: 'explode', uid: 'x' }));
  const notJson = await redis.xadd(control, '*', 'm', '{nope');
  await enqueue(queue, pod('e1', forever));
  await waitFor('e1 running', () => runner.list().includes('e1'));

  const input = keys.execInput('sess-1');
  await publish(redis, input, { kind: 'exec-input', sessionId: 'sess-1', dataBase64: Buffer.from('hello\n').toString('base64') });
  await publish(redis, input, { kind: 'exec-input', sessionId: 'sess-1', close: true });
  await publish(redis, control, {
    kind: 'exec', uid: 'e1', sessionId: 'sess-1', container: 'main', stdin: true, tty: false,
    command: ['sh', '-c', 'read x; echo "got $x"; echo oops >&2; exit 3'],
  });
  await publish(redis, control, { kind: 'exec', uid: 'nope', sessionId: 'sess-2', container: 'main', stdin: false, tty: false, command: ['true'] });
  const out = await readSession(keys, 'sess-1');
  assert.equal(text(out, 'stdout'), 'got hello\n');
  assert.equal(text(out, 'stderr'), 'oops\n');
  assert.deepEqual(out.at(-1), { kind: 'exit', exitCode: 3 });
  const failed = await readSession(keys, 'sess-2');
  assert.equal(failed.length, 1);
  assert.equal(failed[0]!.kind, 'error');
  assert.match(failed[0]!.message!, /not running/);

  const dead = await redis.xrange(keys.deadLetter, '-', '+');
  const fields = dead.map(([, f]) => ({ source: f[1], id: f[3], error: f[5] }));
  assert.deepEqual(fields.map((f) => f.id), [bad, notJson]);
  assert.ok(fields.every((f) => f.source === control));
  assert.match(fields[0]!.error!, /kind: expected one of stop, exec, exec-input/);
});
