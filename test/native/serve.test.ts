// `burstlet-runtime serve` (what the worker drives the runtime through) and the in-process
// state reader must behave exactly like spawning the binary: same exit codes, stdout,
// stderr and state JSON, for many concurrent requests.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { burstletRuntimePath, NativeRuntime } from '../../workers/executor/native-runtime.ts';
import { RuntimeServer } from '../../workers/executor/runtime-server.ts';
import { readContainerState } from '../../workers/executor/state-reader.ts';
import { ensureNativeBuilt, makeScratch, skipUnlessRoot, uniqueId, type Scratch } from './support/bundle.ts';

const run = promisify(execFile);

/** What spawning the binary gives for `args`. */
async function spawned(args: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(burstletRuntimePath, args);
    return { exitCode: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { exitCode: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('burstlet-runtime serve', () => {
  let server: RuntimeServer;
  before(() => {
    ensureNativeBuilt();
    server = new RuntimeServer(burstletRuntimePath);
  });
  after(() => server.close());

  test('answers like the spawned binary: usage errors, unknown commands, missing containers', async () => {
    for (const args of [['--root', '/nonexistent-root', 'state', 'nope'], ['bogus'], ['--root', '/x', 'start'], ['--root', '/x', 'state', '../evil']]) {
      assert.deepEqual(await server.run(args), await spawned(args), args.join(' '));
    }
  });

  test('200 overlapping requests each get their own answer', async () => {
    const ids = Array.from({ length: 200 }, (_, i) => `c${i}`);
    const answers = await Promise.all(ids.map((id) => server.run(['--root', '/nonexistent-root', 'state', id])));
    answers.forEach((a, i) => {
      assert.equal(a.exitCode, 1);
      assert.match(a.stderr, new RegExp(`container \`${ids[i]}\` does not exist`));
    });
  });

  test('arguments with NUL bytes are refused before anything runs', async () => {
    await assert.rejects(server.run(['state', 'a\0b']), /NUL/);
  });

  test('a killed server fails the calls in flight and the next call starts a new one', async () => {
    const s = new RuntimeServer(burstletRuntimePath);
    await s.run(['bogus']);
    const child = (s as unknown as { child: { kill(sig: string): void; once(e: string, f: () => void): void } }).child;
    const exited = new Promise<void>((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    assert.equal((await s.run(['bogus'])).exitCode, 2);
    s.close();
  });
});

describe('state read in-process matches `burstlet-runtime state` (root)', { skip: skipUnlessRoot() }, () => {
  let scratch: Scratch;
  let rt: NativeRuntime;
  let root: string;
  before(() => {
    ensureNativeBuilt();
    scratch = makeScratch();
    root = join(scratch.dir, 'state');
    rt = new NativeRuntime({ root });
  });
  after(() => scratch?.cleanup());

  /** The CLI's view of `id`, in the reader's shape. */
  async function cliState(id: string) {
    const r = await spawned(['--root', root, 'state', id]);
    if (r.exitCode !== 0) return { error: r.stderr };
    const raw = JSON.parse(r.stdout);
    const b = raw.burstlet ?? {};
    return {
      id: raw.id, status: raw.status, pid: raw.pid, bundle: raw.bundle,
      ...(typeof b.exitCode === 'number' ? { exit: { exitCode: b.exitCode, signal: b.signal, oomKilled: b.oomKilled, finishedAt: b.finishedAt } } : {}),
    };
  }
  const readerState = (id: string) => readContainerState(root, id).catch((e: Error) => ({ error: e.message }));

  test('created, running, stopped with exit code, missing', async () => {
    const id = uniqueId('st');
    const bundle = scratch.bundle('b', { args: ['sh', '-c', 'while :; do sleep 1; done'] });
    await rt.create(id, bundle, { logPath: join(scratch.dir, `${id}.log`) });
    try {
      const created = await readerState(id);
      assert.equal((created as { status: string }).status, 'created');
      assert.deepEqual(created, await cliState(id));
      await rt.start(id);
      const running = await readerState(id);
      assert.equal((running as { status: string }).status, 'running');
      assert.deepEqual(running, await cliState(id));
      await rt.kill(id, 'SIGKILL');
      const stopped = await rt.waitForExit(id, { timeoutMs: 30_000 });
      assert.equal(stopped.status, 'stopped');
      assert.equal(stopped.exit?.exitCode, 137);
      assert.deepEqual(await readerState(id), await cliState(id));
    } finally {
      await rt.delete(id, { force: true });
    }
    const missing = await readerState(id);
    assert.match((missing as { error: string }).error, /does not exist/);
    assert.match((await cliState(id) as { error: string }).error, /does not exist/);
    await assert.rejects(readContainerState(root, '../x'), /invalid container id/);
  });

  test('create --start (served and spawned): the process runs at once with no exec.fifo, as after create and start; its exit is recorded (root)', async () => {
    const server = new RuntimeServer(burstletRuntimePath);
    const root = join(scratch.dir, 'start-state');
    try {
      for (const how of ['served', 'spawned'] as const) {
        const id = uniqueId(`cs-${how}`);
        const log = join(scratch.dir, `${id}.log`);
        const bundle = scratch.bundle(`cs-${how}`, { args: ['sh', '-c', 'echo started; exec sleep 30'] });
        const args = ['--root', root, 'create', '--bundle', bundle, '--log-path', log, '--start', id];
        const created = how === 'served' ? await server.run(args) : await spawned(args);
        assert.deepEqual(created, { exitCode: 0, stdout: '', stderr: '' }, how);
        assert.ok(!existsSync(join(root, id, 'exec.fifo')), `${how}: no fifo is left to start it`);
        const rt = new NativeRuntime({ root });
        assert.equal((await rt.state(id)).status, 'running', how);
        assert.equal(JSON.parse((await spawned(['--root', root, 'state', id])).stdout).status, 'running', `${how}: the CLI's state agrees`);
        // The process runs without anyone starting it: its line reaches the log.
        for (let i = 0; i < 500 && !/stdout F started\n/.test(readFileSync(log, 'utf8')); i++) await new Promise((r) => setTimeout(r, 20));
        assert.match(readFileSync(log, 'utf8'), /stdout F started\n/, `${how}: the process ran before anyone started it`);
        await rt.kill(id, 'SIGKILL');
        const stopped = await rt.waitForExit(id, { timeoutMs: 30_000 });
        assert.equal(stopped.exit?.exitCode, 137, how);
        await rt.delete(id);
      }
    } finally {
      server.close();
    }
  });

  test('create through serve: the call itself stays as the monitor (serve\'s child, bl-monitor), answered once the container waits; a failing create leaves nothing', async () => {
    const server = new RuntimeServer(burstletRuntimePath);
    const serveRoot = join(scratch.dir, 'serve-state');
    const id = uniqueId('sv');
    const bundle = scratch.bundle('sv', { args: ['sh', '-c', 'echo up; exit 3'] });
    try {
      const created = await server.run(['--root', serveRoot, 'create', '--bundle', bundle, '--log-path', join(scratch.dir, `${id}.log`), id]);
      assert.deepEqual(created, { exitCode: 0, stdout: '', stderr: '' });
      const st = JSON.parse(readFileSync(join(serveRoot, id, 'state.json'), 'utf8')) as { monitorPid: number; pid: number };
      const serverPid = (server as unknown as { child: { pid: number } }).child.pid;
      const stat = readFileSync(`/proc/${st.monitorPid}/stat`, 'utf8');
      assert.equal(Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]), serverPid, 'the monitor is the serve call, not a process it forked');
      assert.equal(readFileSync(`/proc/${st.monitorPid}/comm`, 'utf8').trim(), 'bl-monitor');
      const srt = new NativeRuntime({ root: serveRoot });
      await srt.start(id);
      const stopped = await srt.waitForExit(id, { timeoutMs: 30_000 });
      assert.equal(stopped.exit?.exitCode, 3);
      await srt.delete(id);

      const bad = scratch.bundle('sv-bad', { args: ['/no/such/binary'] });
      const failed = await server.run(['--root', serveRoot, 'create', '--bundle', bad, '--log-path', join(scratch.dir, 'bad.log'), `${id}-bad`]);
      assert.notEqual(failed.exitCode, 0);
      assert.match(failed.stderr, /no\/such\/binary/);
      assert.ok(!existsSync(join(serveRoot, `${id}-bad`)), 'no state left by a failed create');
    } finally {
      server.close();
    }
  });
});
