// The `token` control message on a real host (real redis + bullmq, ProcessRunner): the token
// file in the pod's volume is replaced atomically with its mode, only inside the volume, only
// for a pod the host runs, never by an older token; a file not there yet is waited for.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TokenRefresh } from '../../../src/schema/control.ts';
import { publish } from '../../../src/streams.ts';
import { replaceVolumeFile } from '../../../workers/runtime/volume-file.ts';
import { enqueue, forever, hostWithQueue, pod, useRedisAndDir, waitFor } from './support/fixtures.ts';
import { ProcessRunner } from './support/process-runner.ts';

const env = useRedisAndDir('token-file');

const token = (uid: string, value: string, expiresAt: number, path = 'token', volume = 'sa-token'): TokenRefresh => ({ kind: 'token', uid, volume, path, token: value, expiresAt });
const read = (file: string) => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
};

test('real redis+bullmq: a token message replaces the file in the pod volume atomically, keeping its mode; older tokens and foreign pods are refused', async (t) => {
  const runner = new ProcessRunner();
  const { keys, host, options, queue } = await hostWithQueue(t, env.server.url, 'token', runner);
  // What the runtime lays out for a projected volume (ProcessRunner makes no volumes).
  const volume = join(options.stateDir, 'runtime', 'pods', 'tk1', 'volumes', 'sa-token');
  mkdirSync(join(volume, 'sub'), { recursive: true });
  writeFileSync(join(volume, 'token'), 'first', { mode: 0o640 });
  writeFileSync(join(volume, 'sub', 'token'), 'nested', { mode: 0o600 });
  const outside = join(options.stateDir, 'outside');
  mkdirSync(outside);
  writeFileSync(join(outside, 'token'), 'not yours', { mode: 0o644 });
  symlinkSync(outside, join(volume, 'escape'));
  const before = statSync(join(volume, 'token'));

  await enqueue(queue, pod('tk1', forever));
  await waitFor('tk1 running', () => runner.list().includes('tk1'));
  const control = keys.control(host.id);
  await publish(env.redis, control, token('tk1', 'second', 2000));
  await waitFor('token replaced', () => read(join(volume, 'token')) === 'second');
  const afterWrite = statSync(join(volume, 'token'));
  assert.equal(afterWrite.mode & 0o7777, 0o640, 'same mode');
  assert.notEqual(afterWrite.ino, before.ino, 'a new inode renamed over the old one: no reader sees a partial file');
  assert.deepEqual(readdirSync(volume).sort(), ['escape', 'sub', 'token'], 'no temp file left');

  // Refused ones first, then a valid one: writes of a pod are done in order.
  await publish(env.redis, control, token('tk1', 'older', 1000));
  await publish(env.redis, control, token('tk1', 'climb', 3000, 'escape/token'));
  await publish(env.redis, control, token('tk1', 'dots', 3000, '../../../outside/token'));
  await publish(env.redis, control, token('tk1', 'absolute', 3000, join(outside, 'token')));
  await publish(env.redis, control, token('tk1', 'nested-2', 3000, 'sub/token'));
  await waitFor('nested token replaced', () => read(join(volume, 'sub', 'token')) === 'nested-2');
  assert.equal(statSync(join(volume, 'sub', 'token')).mode & 0o7777, 0o600);
  assert.equal(read(join(volume, 'token')), 'second', 'an older token does not replace a newer one');
  assert.equal(read(join(outside, 'token')), 'not yours', 'nothing written outside the volume');
  assert.deepEqual(readdirSync(outside), ['token']);

  // A pod this host does not run: dropped, even if a directory happens to exist for it.
  const stray = join(options.stateDir, 'runtime', 'pods', 'tk2', 'volumes', 'sa-token');
  mkdirSync(stray, { recursive: true });
  writeFileSync(join(stray, 'token'), 'stray');
  await publish(env.redis, control, token('tk2', 'nope', 5000));
  await publish(env.redis, control, token('tk1', 'third', 5000));
  await waitFor('third token', () => read(join(volume, 'token')) === 'third');
  assert.equal(read(join(stray, 'token')), 'stray');
  assert.deepEqual(await env.redis.xlen(keys.deadLetter), 0, 'token messages are understood, not dead-lettered');
});

test('real redis+bullmq: a token for a running pod whose volume is not set up yet is written once the file appears', async (t) => {
  const runner = new ProcessRunner();
  const { keys, host, options, queue } = await hostWithQueue(t, env.server.url, 'token-wait', runner);
  await enqueue(queue, pod('tw1', forever));
  await waitFor('tw1 running', () => runner.list().includes('tw1'));
  await publish(env.redis, keys.control(host.id), token('tw1', 'fresh', 9000, 'token', 'kube-api-access'));
  const volume = join(options.stateDir, 'runtime', 'pods', 'tw1', 'volumes', 'kube-api-access');
  mkdirSync(volume, { recursive: true });
  writeFileSync(join(volume, 'token'), 'from-the-job', { mode: 0o644 });
  await waitFor('token written after the volume appeared', () => read(join(volume, 'token')) === 'fresh');
});

test('replaceVolumeFile: missing volume or file is reported, not created; a directory or symlink target is refused', async (t) => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'burstlet-volfile-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const v = join(dir, 'vol');
  assert.equal(await replaceVolumeFile(v, 'token', Buffer.from('x')), 'missing');
  mkdirSync(join(v, 'adir'), { recursive: true });
  assert.equal(await replaceVolumeFile(v, 'token', Buffer.from('x')), 'missing');
  assert.deepEqual(readdirSync(v), ['adir'], 'no file created');
  await assert.rejects(replaceVolumeFile(v, 'adir', Buffer.from('x')), /not a regular file/);
  writeFileSync(join(dir, 'target'), 'keep');
  symlinkSync(join(dir, 'target'), join(v, 'link'));
  await assert.rejects(replaceVolumeFile(v, 'link', Buffer.from('x')), /not a regular file/);
  await assert.rejects(replaceVolumeFile(v, '../target', Buffer.from('x')), /relative path without/);
  assert.equal(readFileSync(join(dir, 'target'), 'utf8'), 'keep');
  // An emptyDir (world-writable: a container could swap paths under the write) is refused.
  const scratch = join(dir, 'scratch');
  mkdirSync(scratch, { mode: 0o777 });
  chmodSync(scratch, 0o777);
  writeFileSync(join(scratch, 'token'), 'mine');
  await assert.rejects(replaceVolumeFile(scratch, 'token', Buffer.from('x')), /writable by containers/);
  assert.equal(readFileSync(join(scratch, 'token'), 'utf8'), 'mine');
});
