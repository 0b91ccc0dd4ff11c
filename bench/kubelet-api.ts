// `npm run bench -- kubelet-api [runs]`: the provider's kubelet API on a real redis-server.
//  1. GET /containerLogs of a full log stream (LOG_STREAM_MAXLEN records of ~100 bytes) over
//     HTTP; yardstick: the same records read with raw XRANGE + JSON.parse in one client.
//  2. follow latency: XADD of a line → the line arrives at an HTTP follow client; yardstick:
//     XADD → a raw XREAD BLOCK client gets it.
//  3. exec round trip: stdin frame → simulated worker (Redis contract) echoes → stdout frame.
// Prints figures and, last, one JSON object.
import { Redis } from 'ioredis';
import { buildKubeletApi } from '../provider/api/index.ts';
import { LOG_STREAM_MAXLEN } from '../src/schema/streams.ts';
import { MapPods, pod, running, uniqueKeys } from '../test/provider/api/support/fixture.ts';
import { simulateWorker } from '../test/provider/api/support/worker-sim.ts';
import { startRedis } from '../test/support/redis.ts';

const runs = Math.max(5, Number(process.argv[2] ?? 7) || 7);
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
const round = (x: number) => Math.round(x * 100) / 100;

const server = await startRedis();
const redis = new Redis(server.url, { maxRetriesPerRequest: null });
const keys = uniqueKeys();
const pods = new MapPods(pod({ name: 'web', statuses: [running('main')] }));
await redis.set(keys.podWorker('uid-web'), 'w1');
await redis.set(keys.worker('w1'), '{}'); // heartbeat
const worker = simulateWorker(server.url, keys, 'w1');
const app = buildKubeletApi({ nodeName: 'bench', pods, redis, keys, blockMs: 1000 });
const base = await app.listen({ host: '127.0.0.1', port: 0 });
const logKey = keys.logs('uid-web', 'main');

try {
  // 1. full log
  const line = 'x'.repeat(100);
  const pipe = redis.pipeline();
  for (let i = 0; i < LOG_STREAM_MAXLEN; i++) pipe.xadd(logKey, '*', 'm', JSON.stringify({ ts: new Date().toISOString(), stream: 'stdout', tag: 'F', line, attempt: 0 }));
  await pipe.exec();
  const api: number[] = [];
  const raw: number[] = [];
  let bytes = 0;
  for (let r = 0; r < runs; r++) {
    let t = performance.now();
    const text = await (await fetch(`${base}/containerLogs/default/web/main`)).text();
    api.push(performance.now() - t);
    bytes = text.length;
    t = performance.now();
    const entries = await redis.xrange(logKey, '-', '+');
    let n = 0;
    for (const [, f] of entries) n += (JSON.parse(f[1]!) as { line: string }).line.length + 1;
    raw.push(performance.now() - t);
    if (n !== bytes) throw new Error(`log size mismatch ${n} vs ${bytes}`);
  }
  console.log(`full log ${LOG_STREAM_MAXLEN} lines (${(bytes / 1e6).toFixed(2)} MB): API median ${pct(api, 0.5).toFixed(1)} ms, raw XRANGE+parse median ${pct(raw, 0.5).toFixed(1)} ms`);

  // 2. follow latency
  const n = 200;
  const follow = await fetch(`${base}/containerLogs/default/web/main?follow=true&tailLines=0`);
  const reader = follow.body!.getReader();
  const rawConn = redis.duplicate();
  const followMs: number[] = [];
  const rawMs: number[] = [];
  let last = '$';
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const id = await redis.xadd(logKey, '*', 'm', JSON.stringify({ ts: new Date().toISOString(), stream: 'stdout', tag: 'F', line: `f${i}`, attempt: 0 }));
    let got = '';
    while (!got.includes(`f${i}\n`)) got += Buffer.from((await reader.read()).value!).toString();
    followMs.push(performance.now() - t);
    const waiting = rawConn.xread('BLOCK', 5000, 'STREAMS', logKey, last);
    await new Promise((r) => setTimeout(r, 2));
    const t2 = performance.now();
    last = (await redis.xadd(logKey, '*', 'm', JSON.stringify({ ts: new Date().toISOString(), stream: 'stdout', tag: 'F', line: `r${i}`, attempt: 0 }))) ?? last;
    await waiting;
    rawMs.push(performance.now() - t2);
    while (!got.includes(`r${i}\n`)) got += Buffer.from((await reader.read()).value!).toString();
    void id;
  }
  await reader.cancel();
  rawConn.disconnect();
  console.log(`follow latency over ${n} lines: API p50 ${pct(followMs, 0.5).toFixed(2)} ms p99 ${pct(followMs, 0.99).toFixed(2)} ms; raw XREAD BLOCK p50 ${pct(rawMs, 0.5).toFixed(2)} ms p99 ${pct(rawMs, 0.99).toFixed(2)} ms`);

  // 3. exec round trip
  const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/exec/default/web/main?command=cat&stdin=1&stdout=1`, ['v5.channel.k8s.io']);
  ws.binaryType = 'arraybuffer';
  let received = '';
  ws.addEventListener('message', (e) => (received += Buffer.from(e.data as ArrayBuffer).subarray(1).toString()));
  await new Promise((r, j) => { ws.addEventListener('open', r); ws.addEventListener('error', j); });
  const execMs: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    ws.send(Buffer.concat([Buffer.from([0]), Buffer.from(`e${i};`)]));
    while (!received.includes(`E${i};`)) await new Promise((r) => setImmediate(r));
    execMs.push(performance.now() - t);
  }
  ws.close();
  console.log(`exec stdin→stdout round trip over ${n} messages: p50 ${pct(execMs, 0.5).toFixed(2)} ms p99 ${pct(execMs, 0.99).toFixed(2)} ms (through provider, Redis and a simulated worker)`);
  console.log(JSON.stringify({
    full_log_lines: LOG_STREAM_MAXLEN, full_log_api_ms: round(pct(api, 0.5)), full_log_raw_ms: round(pct(raw, 0.5)),
    follow_p50_ms: round(pct(followMs, 0.5)), follow_p99_ms: round(pct(followMs, 0.99)), follow_raw_p50_ms: round(pct(rawMs, 0.5)), follow_raw_p99_ms: round(pct(rawMs, 0.99)),
    exec_rtt_p50_ms: round(pct(execMs, 0.5)), exec_rtt_p99_ms: round(pct(execMs, 0.99)),
  }));
} finally {
  await app.close();
  await worker.stop();
  redis.disconnect();
  await server.stop();
}
