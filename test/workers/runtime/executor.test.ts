// One suite every Executor passes (runc, crun, and the native one when it is built).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Executor } from '../../../workers/executor/executor.ts';
import { parseCri } from '../../../workers/executor/cri-log-lines.ts';
import { runcExecutor } from '../../../workers/executor/runc.ts';
import { crunExecutor } from '../../../workers/executor/crun.ts';
import { burstletExecutor } from '../../../workers/executor/burstlet.ts';
import { burstletRuntimePath } from '../../../workers/executor/native-runtime.ts';
import { withResources } from '../../../workers/runtime/spec/resources.ts';
import { busyboxRootfs, hasBinary, ROOT_SKIP } from './support/rootfs.ts';
import { uniqueId, writeBundle } from './support/bundle.ts';

interface Candidate { name: string; make(root: string): Executor; skip: string | false; detectsOom: boolean }

const candidates: Candidate[] = [
  { name: 'runc', make: (r) => runcExecutor(r), skip: ROOT_SKIP || (!hasBinary('runc') && 'runc not installed'), detectsOom: true },
  { name: 'crun', make: (r) => crunExecutor(r), skip: ROOT_SKIP || (!hasBinary('crun') && 'crun not installed'), detectsOom: false },
  // Built by scripts/setup.sh (make -C native), as before every test run.
  { name: 'burstlet', make: (r) => burstletExecutor(r), skip: ROOT_SKIP || (!existsSync(burstletRuntimePath) && 'native/build/burstlet-runtime not built (make -C native)'), detectsOom: true },
];

const logLines = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => parseCri(l)!) : []);

async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

for (const c of candidates) {
  describe(`executor ${c.name} (root)`, { skip: c.skip }, () => {
    let rootfs: ReturnType<typeof busyboxRootfs>;
    let root: string;
    let ex: Executor;
    const cleanups: (() => Promise<void> | void)[] = [];

    before(() => {
      rootfs = busyboxRootfs();
      root = mkdtempSync(join(tmpdir(), `burstlet-exec-${c.name}-`));
      ex = c.make(root);
    });
    after(async () => {
      for (const fn of cleanups.reverse()) await fn();
      rootfs.remove();
      rmSync(root, { recursive: true, force: true });
    });

    /** Creates a container running `args`; deleted after the suite. */
    async function container(args: string[], ...opts: Parameters<typeof writeBundle>[3][]) {
      const id = uniqueId(c.name);
      const bundle = writeBundle(rootfs.path, id, args, ...opts);
      const logPath = join(bundle.dir, 'ctr.log');
      await ex.create(id, bundle.dir, { logPath });
      cleanups.push(async () => {
        await ex.delete(id);
        bundle.remove();
      });
      return { id, logPath };
    }

    test('runs a process: CRI log lines for stdout and stderr, exit code, times', async () => {
      const { id, logPath } = await container(['sh', '-c', 'echo hello; echo oops >&2; hostname; exit 3']);
      assert.equal((await ex.state(id))!.status, 'created');
      await ex.start(id);
      const st = await ex.wait(id);
      assert.equal(st.status, 'stopped');
      assert.equal(st.exitCode, 3);
      assert.equal(st.startError, undefined);
      assert.ok(st.startedAt! <= st.finishedAt!);
      const lines = logLines(logPath);
      assert.deepEqual(lines.filter((l) => l.stream === 'stdout').map((l) => l.line), ['hello', 'box']);
      assert.deepEqual(lines.filter((l) => l.stream === 'stderr').map((l) => `${l.tag} ${l.line}`), ['F oops']);
      assert.match(lines[0].ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    });

    test('a command that does not exist ends stopped with startError and exit 128', async () => {
      const { id } = await container(['/no/such/binary']);
      await ex.start(id);
      const st = await ex.wait(id);
      assert.equal(st.exitCode, 128);
      assert.match(st.startError ?? '', /no such file/i);
    });

    test('kill: a trapped SIGTERM exits cleanly; SIGKILL gives 137 with signal 9', async () => {
      const term = await container(['sh', '-c', 'trap "echo got-term; exit 7" TERM; echo ready; while true; do sleep 0.05; done']);
      await ex.start(term.id);
      await until('ready', () => logLines(term.logPath).some((l) => l.line === 'ready'));
      await ex.kill(term.id, 'SIGTERM');
      const st = await ex.wait(term.id);
      assert.equal(st.exitCode, 7);
      assert.ok(logLines(term.logPath).some((l) => l.line === 'got-term'));
      const hard = await container(['sleep', '1000']);
      await ex.start(hard.id);
      assert.equal((await ex.state(hard.id))!.status, 'running');
      await ex.kill(hard.id, 'SIGKILL');
      const killed = await ex.wait(hard.id);
      assert.equal(killed.exitCode, 137);
      assert.equal(killed.signal, 9);
      await ex.kill(hard.id, 'SIGKILL'); // idempotent on a stopped container
    });

    test('exec runs inside the running container', async () => {
      const { id } = await container(['sh', '-c', 'echo inside > /tmp/marker 2>/dev/null || true; sleep 1000'], (s) => {
        s.root.readonly = false;
      });
      await ex.start(id);
      const p = await ex.exec(id, ['sh', '-c', 'hostname; echo err >&2; exit 4'], { env: ['X=1'] });
      const out: Buffer[] = [];
      p.stdout.on('data', (d: Buffer) => out.push(d));
      p.stdin.end();
      assert.equal(await p.exited, 4);
      assert.equal(Buffer.concat(out).toString(), 'box\n');
      await ex.kill(id, 'SIGKILL');
      await ex.wait(id);
    });

    test('OOM: a process past its memory limit is killed (137) and reported as OOM-killed', { skip: !c.detectsOom && `${c.name} cannot report OOM kills (no run --keep)` }, async () => {
      const { id } = await container(['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=200M', 'count=1'], withResources({ cpuMillis: 1000 }, { memoryBytes: 32 << 20 }));
      await ex.start(id);
      const st = await ex.wait(id);
      assert.equal(st.exitCode, 137);
      assert.equal(st.oomKilled, true);
    });

    test('a second executor on the same root adopts a running container, stops it, reads its status', async () => {
      const { id, logPath } = await container(['sh', '-c', 'trap "echo bye; exit 9" TERM; echo one; while true; do sleep 0.05; done']);
      await ex.start(id);
      await until('first line', () => logLines(logPath).some((l) => l.line === 'one'));
      await ex.close?.(); // as a worker shutting down: containers keep running
      const again = c.make(root);
      assert.ok((await again.list()).includes(id));
      assert.equal((await again.state(id))!.status, 'running');
      await again.kill(id, 'SIGTERM');
      const st = await again.wait(id);
      assert.equal(st.exitCode, 9);
      assert.equal(logLines(logPath).filter((l) => l.line === 'one').length, 1);
      assert.ok(logLines(logPath).some((l) => l.line === 'bye'));
      ex = again;
    });

    test('a wait ends when the container is deleted before it exits (NOT_FOUND)', async () => {
      const { id } = await container(['true']); // created, never started
      const waiting = assert.rejects(ex.wait(id), { code: 'NOT_FOUND' });
      await ex.delete(id);
      await waiting;
    });

    test('concurrent waits all end when one caller deletes the container after its wait', async () => {
      const { id, logPath } = await container(['sh', '-c', 'trap "exit 5" TERM; echo ready; while true; do sleep 0.05; done']);
      await ex.start(id);
      await until('ready', () => logLines(logPath).some((l) => l.line === 'ready')); // pid 1 ignores TERM until trapped
      const first = ex.wait(id);
      const second = ex.wait(id).then((st) => st.exitCode, (err: { code?: string }) => err.code);
      await ex.kill(id, 'SIGTERM');
      assert.equal((await first).exitCode, 5);
      await ex.delete(id); // as the pod runner does right after its wait; a graceful stop still waits
      assert.ok([5, 'NOT_FOUND'].includes((await second)!), 'the second wait ended with the exit code or NOT_FOUND');
    });

    test('create refuses a duplicate id; delete is idempotent and removes the state', async () => {
      const { id } = await container(['true']);
      await assert.rejects(ex.create(id, '/nonexistent', { logPath: '/dev/null' }), /already exists/);
      await ex.start(id);
      await ex.wait(id);
      await ex.delete(id);
      await ex.delete(id);
      assert.equal(await ex.state(id), undefined);
      assert.ok(!(await ex.list()).includes(id));
    });

    test('deletes at once from several callers all succeed (a pod teardown and its container runner)', async () => {
      for (const cmd of [['true'], ['sleep', '1000']]) {
        const { id } = await container(cmd);
        await ex.start(id);
        if (cmd[0] === 'true') await ex.wait(id);
        await Promise.all([ex.delete(id), ex.delete(id), ex.delete(id)]);
        assert.equal(await ex.state(id), undefined);
        assert.ok(!(await ex.list()).includes(id));
      }
    });
  });
}
