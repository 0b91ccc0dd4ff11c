import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, test, type TestContext } from 'node:test';
import { Redis } from 'ioredis';
import { buildKubeletApi } from '../../../provider/api/index.ts';
import { startRedis, type RedisServer } from '../../support/redis.ts';
import { eventually, MapPods, pod, running, uniqueKeys } from './support/fixture.ts';
import { simulateWorker } from './support/worker-sim.ts';

let server: RedisServer;
let redis: Redis;
before(async () => {
  server = await startRedis();
  redis = new Redis(server.url, { maxRetriesPerRequest: null });
});
after(async () => {
  redis.disconnect();
  await server.stop();
});

async function setup(t: TestContext) {
  const keys = uniqueKeys();
  const pods = new MapPods(pod({ name: 'web', statuses: [running('main')] }), pod({ name: 'queued', phase: 'Pending' }));
  await redis.set(keys.podWorker('uid-web'), 'w1');
  // The worker's heartbeat (its content does not matter to the kubelet API).
  await redis.set(keys.worker('w1'), '{}');
  const worker = simulateWorker(server.url, keys, 'w1');
  const app = buildKubeletApi({ nodeName: 'burstlet', pods, redis, keys, blockMs: 100 });
  t.after(async () => {
    await app.close();
    await worker.stop();
  });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  return { keys, worker, app, ws: address.replace(/^http/, 'ws'), http: address };
}

interface Frame {
  channel: number;
  text: string;
}

/** A real WebSocket client (Node's global WebSocket) collecting decoded frames. */
function connect(url: string, protocols: string[]) {
  const ws = new WebSocket(url, protocols);
  ws.binaryType = 'arraybuffer';
  const frames: Frame[] = [];
  const base64 = (p: string) => p.includes('base64');
  ws.addEventListener('message', (e) => {
    if (typeof e.data === 'string') frames.push({ channel: e.data.charCodeAt(0) - 48, text: Buffer.from(e.data.slice(1), 'base64').toString() });
    else {
      const b = Buffer.from(e.data as ArrayBuffer);
      frames.push({ channel: b[0]!, text: b.subarray(1).toString() });
    }
  });
  const opened = new Promise<void>((resolve, reject) => {
    ws.addEventListener('open', () => resolve());
    ws.addEventListener('error', () => reject(new Error('websocket failed')));
  });
  const closed = new Promise<number>((resolve) => ws.addEventListener('close', (e) => resolve(e.code)));
  const send = (channel: number, data: string) => {
    if (base64(ws.protocol)) ws.send(String.fromCharCode(48 + channel) + Buffer.from(data).toString('base64'));
    else ws.send(Buffer.concat([Buffer.from([channel]), Buffer.from(data)]));
  };
  return { ws, frames, opened, closed, send };
}

const path = (query: string, podName = 'web') => `/exec/default/${podName}/main?${query}`;
const on = (frames: Frame[], channel: number) => frames.filter((f) => f.channel === channel).map((f) => f.text).join('');

test('v5 exec: stdin reaches the worker, output comes back, stdin close ends the command (real redis, real websocket)', async (t) => {
  const { ws: base, worker } = await setup(t);
  const c = connect(`${base}${path('command=cat&stdin=1&stdout=1&stderr=1')}`, ['v5.channel.k8s.io', 'v4.channel.k8s.io']);
  await c.opened;
  assert.equal(c.ws.protocol, 'v5.channel.k8s.io');
  c.send(0, 'hello ');
  c.send(0, 'world');
  await eventually(() => on(c.frames, 1) === 'HELLO WORLD', 'the echoed stdin');
  c.ws.send(new Uint8Array([255, 0]));
  assert.equal(await c.closed, 1000);
  // The kubelet's "connection established" empty frame comes first, on stdout.
  assert.deepEqual(c.frames[0], { channel: 1, text: '' });
  assert.deepEqual(JSON.parse(on(c.frames, 3)), { metadata: {}, status: 'Success' });
  const start = worker.control[0];
  assert.equal(start?.kind, 'exec');
  assert.deepEqual(start?.kind === 'exec' && { ...start, sessionId: 'x' }, { kind: 'exec', uid: 'uid-web', sessionId: 'x', container: 'main', command: ['cat'], stdin: true, tty: false });
});

test('v4 exec: a non-zero exit becomes a NonZeroExitCode Status with the ExitCode cause; stdout and stderr on their channels (real redis)', async (t) => {
  const { ws: base } = await setup(t);
  const c = connect(`${base}${path('command=exit&command=3&stdout=1&stderr=1')}`, ['v4.channel.k8s.io']);
  await c.opened;
  await c.closed;
  assert.equal(on(c.frames, 1), 'out');
  assert.equal(on(c.frames, 2), 'err');
  const status = JSON.parse(on(c.frames, 3));
  assert.equal(status.status, 'Failure');
  assert.equal(status.reason, 'NonZeroExitCode');
  assert.deepEqual(status.details.causes, [{ reason: 'ExitCode', message: '3' }]);
});

test('base64 subprotocol: frames are text with an ASCII channel digit and base64 payloads (real redis)', async (t) => {
  const { ws: base } = await setup(t);
  const c = connect(`${base}${path('command=exit&command=0&stdout=1')}`, ['v4.base64.channel.k8s.io']);
  await c.opened;
  await c.closed;
  assert.equal(c.ws.protocol, 'v4.base64.channel.k8s.io');
  assert.equal(on(c.frames, 1), 'out');
  assert.equal(on(c.frames, 2), '', 'stderr was not asked for');
  assert.deepEqual(JSON.parse(on(c.frames, 3)), { metadata: {}, status: 'Success' });
});

test('channel.k8s.io (v1): a worker error is a plain message on the error channel (real redis)', async (t) => {
  const { ws: base } = await setup(t);
  const c = connect(`${base}${path('command=fail&stdout=1')}`, ['channel.k8s.io']);
  await c.opened;
  await c.closed;
  assert.equal(on(c.frames, 3), 'no such process');
});

test('tty: resize messages reach the worker; stderr is merged into stdout like the kubelet (real redis)', async (t) => {
  const { ws: base, worker } = await setup(t);
  const c = connect(`${base}${path('command=cat&stdin=1&stdout=1&stderr=1&tty=1')}`, ['v5.channel.k8s.io']);
  await c.opened;
  c.send(4, JSON.stringify({ Width: 120, Height: 40 }));
  await eventually(() => on(c.frames, 1) === 'resize 120x40', 'the resize echo');
  c.ws.send(new Uint8Array([255, 0]));
  await c.closed;
  const start = worker.control[0];
  assert.ok(start?.kind === 'exec' && start.tty);
});

test('a client that goes away closes stdin for the worker and the session streams are removed (real redis)', async (t) => {
  const { ws: base, worker, keys } = await setup(t);
  const c = connect(`${base}${path('command=sleep&stdin=1&stdout=1')}`, ['v5.channel.k8s.io']);
  await c.opened;
  c.send(0, 'x');
  await eventually(() => worker.inputs.size === 1 && [...worker.inputs.values()][0]!.length === 1, 'the stdin record');
  c.ws.close();
  await eventually(() => [...worker.inputs.values()][0]!.some((i) => i.close === true), 'stdin close');
  const session = worker.control[0]!.kind === 'exec' ? (worker.control[0] as { sessionId: string }).sessionId : '';
  await eventually(async () => (await redis.exists(keys.execInput(session), keys.execOutput(session))) === 0, 'session streams removed');
});

test('refusals come as HTTP Status bodies before any upgrade: plain GET, SPDY, no streams, no command, unknown pod, pod not on a worker', async (t) => {
  const { http } = await setup(t);
  // node:http, because fetch refuses Upgrade headers.
  const get = (p: string, headers: Record<string, string> = {}, method = 'GET') =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(`${http}${p}`, { method, headers: { accept: 'application/json', ...headers } }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
  const cases: [string, Record<string, string>, number, RegExp][] = [
    [path('command=ls&stdout=1'), {}, 400, /Upgrade request required/],
    [path('command=ls&stdout=1'), { connection: 'Upgrade', upgrade: 'SPDY/3.1' }, 501, /SPDY\/3\.1 streaming is not supported/],
    [path('command=ls'), {}, 400, /at least 1 of stdin, stdout, stderr/],
    [path('stdout=1'), {}, 400, /at least one command/],
    [path('command=ls&stdout=1', 'nope'), {}, 404, /pod "nope" does not exist/],
    [path('command=ls&stdout=1', 'queued'), {}, 400, /not running on any worker/],
  ];
  for (const [p, headers, status, message] of cases) {
    const res = await get(p, headers).catch((err) => { throw new Error(`${p} ${JSON.stringify(headers)}: ${err.message}`); });
    assert.equal(res.status, status, p);
    const body = JSON.parse(res.body) as { kind: string; message: string };
    assert.equal(body.kind, 'Status');
    assert.match(body.message, message);
  }
  const post = await get(path('command=ls&stdout=1'), { connection: 'Upgrade', upgrade: 'SPDY/3.1' }, 'POST');
  assert.equal(post.status, 501, post.body);
});

test('a WebSocket to a pod without a worker is refused at the handshake (real redis)', async (t) => {
  const { ws: base } = await setup(t);
  const c = connect(`${base}${path('command=ls&stdout=1', 'queued')}`, ['v5.channel.k8s.io']);
  await assert.rejects(c.opened);
});

test('closing the API ends open exec sessions and tells the worker stdin is closed (real redis)', async (t) => {
  const { ws: base, worker, app } = await setup(t);
  const c = connect(`${base}${path('command=sleep&stdin=1&stdout=1')}`, ['v5.channel.k8s.io']);
  await c.opened;
  await eventually(() => worker.control.length === 1, 'the exec control message');
  const closed = app.close().then(() => 'closed');
  assert.equal(await Promise.race([closed, new Promise((r) => setTimeout(() => r('still open after 20 s'), 20_000).unref())]), 'closed');
  await c.closed;
  await eventually(() => [...worker.inputs.values()][0]?.some((i) => i.close === true) ?? false, 'stdin close');
});

test('a worker that dies mid-session ends it with a Failure status instead of hanging (real redis)', async (t) => {
  const { ws: base, worker, keys } = await setup(t);
  const c = connect(`${base}${path('command=sleep&stdin=1&stdout=1')}`, ['v4.channel.k8s.io']);
  await c.opened;
  await eventually(() => worker.control.length === 1, 'the exec control message');
  await redis.del(keys.worker('w1'));
  await c.closed;
  const status = JSON.parse(on(c.frames, 3));
  assert.equal(status.status, 'Failure');
  assert.match(status.message, /worker w1 running the pod is gone/);
});

test('a pod whose worker has no heartbeat is refused before the upgrade (real redis)', async (t) => {
  const { http, keys } = await setup(t);
  await redis.del(keys.worker('w1'));
  const res = await fetch(`${http}${path('command=ls&stdout=1')}`);
  assert.equal(res.status, 400);
  assert.match(await res.text(), /worker w1 running pod "web" is gone/);
});
