// burstlet-runtime's monitor: CRI logs, exit records, signal forwarding, and survival of
// the driver that started the container.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { join } from 'node:path';
import { NativeRuntime } from '../../workers/executor/native-runtime.ts';
import { criLog, ensureNativeBuilt, makeScratch, skipUnlessRoot, uniqueId, type Scratch } from './support/bundle.ts';

const skip = skipUnlessRoot();
const rfc3339Nano = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/;

/** Polls `check` until it returns true (generous deadline; no timing assertions). */
async function until(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('burstlet monitor (root)', { skip }, () => {
  let scratch: Scratch;
  let rt: NativeRuntime;

  before(() => {
    ensureNativeBuilt();
    scratch = makeScratch();
    rt = new NativeRuntime({ root: join(scratch.dir, 'state') });
  });
  after(() => scratch?.cleanup());

  test('stdout and stderr become CRI log records; long lines are split into P parts', async () => {
    const id = uniqueId('log');
    const script = 'echo out-1; echo err-1 >&2; head -c 40000 /dev/zero | tr "\\0" x; echo; printf tail-no-newline';
    const bundle = scratch.bundle(id, { args: ['sh', '-c', script] });
    const logPath = join(scratch.dir, `${id}.log`);
    await rt.create(id, bundle, { logPath });
    await rt.start(id);
    const st = await rt.waitForExit(id);
    await rt.delete(id);
    assert.equal(st.exit?.exitCode, 0);
    const log = criLog(logPath);
    for (const r of log.records) assert.match(r.ts, rfc3339Nano);
    assert.deepEqual(log.lines('stderr'), ['err-1']);
    const out = log.lines('stdout');
    assert.deepEqual([out[0], out[1].length, out[1].replaceAll('x', ''), out[2]], ['out-1', 40000, '', 'tail-no-newline']);
    const parts = log.records.filter((r) => r.stream === 'stdout' && r.tag === 'P');
    assert.equal(parts.length, 2, '40000 bytes = two 16 KiB partial records + the rest');
    assert.ok(parts.every((p) => p.line.length === 16384));
  });

  test('SIGTERM to the monitor is forwarded to the container', async () => {
    const id = uniqueId('fwd');
    const bundle = scratch.bundle(id, { args: ['sh', '-c', 'trap "exit 42" TERM; echo ready; while :; do sleep 0.05; done'] });
    const logPath = join(scratch.dir, `${id}.log`);
    await rt.create(id, bundle, { logPath });
    await rt.start(id);
    // pid 1 ignores SIGTERM until its trap is set
    await until(async () => criLog(logPath).lines('stdout').includes('ready'), 'trap set');
    const state = JSON.parse(readFileSync(join(rt.root, id, 'state.json'), 'utf8')) as { monitorPid: number };
    process.kill(state.monitorPid, 'SIGTERM');
    const st = await rt.waitForExit(id);
    await rt.delete(id);
    assert.equal(st.exit?.exitCode, 42);
  });

  test('kill -9 of the driver: the container keeps running and a new driver stops it', async () => {
    const id = uniqueId('adopt');
    const bundle = scratch.bundle(id, { args: ['sh', '-c', 'trap "exit 5" TERM; echo ready; while :; do sleep 0.05; done'] });
    const logPath = join(scratch.dir, `${id}.log`);
    // The first driver: a separate Node process that creates and starts, then hangs.
    const code = `
      import { NativeRuntime } from ${JSON.stringify(new URL('../../workers/executor/native-runtime.ts', import.meta.url).href)};
      const rt = new NativeRuntime({ root: ${JSON.stringify(rt.root)} });
      await rt.create(${JSON.stringify(id)}, ${JSON.stringify(bundle)}, { logPath: ${JSON.stringify(logPath)} });
      await rt.start(${JSON.stringify(id)});
      console.log('started');
      setInterval(() => {}, 1000);`;
    const driver = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      driver.stdout.on('data', (d: Buffer) => d.toString().includes('started') && resolve());
      driver.once('exit', (c) => reject(new Error(`driver exited early with ${c}`)));
    });
    driver.kill('SIGKILL');
    await new Promise((r) => driver.once('exit', r));

    const st = await rt.state(id);
    assert.equal(st.status, 'running', 'still running after the driver died');
    await until(async () => criLog(logPath).lines('stdout').includes('ready'), 'trap set');
    await rt.kill(id, 'SIGTERM');
    const stopped = await rt.waitForExit(id);
    await rt.delete(id);
    assert.deepEqual([stopped.exit?.exitCode, stopped.exit?.signal, stopped.exit?.oomKilled], [5, 0, false]);
  });

  test('SIGKILL of the container is recorded as signal 9, exit code 137', async () => {
    const id = uniqueId('sig');
    const bundle = scratch.bundle(id, { args: ['sleep', '600'] });
    await rt.create(id, bundle, { logPath: join(scratch.dir, `${id}.log`) });
    await rt.start(id);
    await until(async () => (await rt.state(id)).status === 'running', 'running');
    await rt.kill(id, 'KILL');
    const st = await rt.waitForExit(id);
    await rt.delete(id);
    assert.deepEqual([st.exit?.exitCode, st.exit?.signal], [137, 9]);
  });

  test('kill --all signals every process of the container cgroup', async () => {
    const id = uniqueId('all');
    const bundle = scratch.bundle(id, { args: ['sh', '-c', 'sleep 600 & sleep 600 & wait'] });
    await rt.create(id, bundle, { logPath: join(scratch.dir, `${id}.log`) });
    await rt.start(id);
    await until(async () => (await rt.exec(id, ['sh', '-c', 'ps -o comm | grep -c "^sleep$"'])).stdout.trim() === '2', 'two sleeps');
    await rt.kill(id, 'KILL', { all: true });
    const st = await rt.waitForExit(id);
    await rt.delete(id);
    assert.deepEqual([st.exit?.exitCode, st.exit?.signal], [137, 9]);
  });
});
