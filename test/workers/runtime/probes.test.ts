import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { test } from 'node:test';
import { Prober, runHandler, type HandlerTarget } from '../../../workers/runtime/probes.ts';
import { freePort } from '../../support/ports.ts';

function target(port: number, exitCodes: number[] = [0]): HandlerTarget & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    calls,
    host: '127.0.0.1',
    ports: [{ name: 'web', containerPort: port }],
    exec: async (cmd) => {
      calls.push(cmd);
      const code = exitCodes[Math.min(calls.length - 1, exitCodes.length - 1)];
      return { exitCode: code, output: code ? 'nope' : '', timedOut: false };
    },
  };
}

test('runHandler: httpGet (named port, status classes, headers) and tcpSocket on the host network', async (t) => {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.url} ${req.headers['x-probe'] ?? ''} ${req.headers['user-agent']}`);
    res.statusCode = req.url === '/bad' ? 500 : req.url === '/moved' ? 302 : 200;
    res.end('x');
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  t.after(() => server.close());
  const tg = target(port);
  assert.deepEqual(await runHandler({ httpGet: { path: '/ok', port: 'web', httpHeaders: [{ name: 'X-Probe', value: 'yes' }] } }, tg, 2), { ok: true, message: '' });
  assert.match(seen[0], /^\/ok yes kube-probe\//);
  assert.equal((await runHandler({ httpGet: { path: '/moved', port } }, tg, 2)).ok, true);
  assert.deepEqual(await runHandler({ httpGet: { path: '/bad', port } }, tg, 2), { ok: false, message: 'HTTP probe failed with statuscode: 500' });
  assert.equal((await runHandler({ tcpSocket: { port } }, tg, 2)).ok, true);
  const closed = await freePort();
  const refused = await runHandler({ tcpSocket: { port: closed } }, tg, 1);
  assert.equal(refused.ok, false);
  assert.match(refused.message, /connection refused/);
  assert.equal((await runHandler({ httpGet: { port: 'nope' } }, tg, 1)).message, 'unknown port nope');
  assert.match((await runHandler({ grpc: { port: 1 } }, tg, 1)).message, /unsupported/);
});

test('Prober: successThreshold and failureThreshold gate the transitions; failures are reported each time', async () => {
  const tg = target(0, [0, 1, 1, 1, 0, 0]);
  const changes: boolean[] = [];
  const failures: string[] = [];
  const p = new Prober({ exec: { command: ['check'] }, periodSeconds: 0, failureThreshold: 3, successThreshold: 2 }, tg, (ok) => changes.push(ok), (m) => failures.push(m));
  p.start();
  const end = Date.now() + 30_000;
  while (tg.calls.length < 6 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  p.stop();
  // calls: ok (1 success, below 2) → fail ×3 (→ false) → ok ×2 (→ true)
  assert.deepEqual(changes.slice(0, 2), [false, true]);
  assert.equal(failures.length, 3);
  assert.match(failures[0], /exit code 1: nope/);
});
