// kill -9 of the worker mid-pod: a new runner on the same state adopts the running pod.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import type { PodSnapshot } from '../../../workers/pod-runner.ts';
import { RuntimePodRunner } from '../../../workers/runtime/pod-runner.ts';
import { RuntimeService } from '../../../workers/runtime/runtime-service.ts';
import { crashTestExecutor, crashTestExecutorMissing, type CrashTestExecutor } from './support/crash-executor.ts';
import { dirImageSource } from './support/dir-image-source.ts';
import { podLeftovers } from './support/leaks.ts';
import { testPod } from './support/pod.ts';
import { Recorder, statusOf } from './support/recorder.ts';
import { busyboxRootfs, ROOT_SKIP } from './support/rootfs.ts';

// runc (oci-cli.ts: a shell monitor per container) and burstlet's own runtime (its monitor).
const executors: CrashTestExecutor[] = ['runc', 'burstlet'];
for (const executor of executors) {
  describe(`re-adoption after the worker is killed, ${executor} (root)`, { skip: ROOT_SKIP || crashTestExecutorMissing(executor) }, () => {
    let rootfs: ReturnType<typeof busyboxRootfs>;
    let state: string;
    let runner: RuntimePodRunner | undefined;

    before(() => {
      rootfs = busyboxRootfs();
      state = mkdtempSync(join(tmpdir(), 'burstlet-readopt-'));
    });
    after(async () => {
      await runner?.close();
      rootfs.remove();
      rmSync(state, { recursive: true, force: true });
    });

    test('the pod keeps running through kill -9 of its worker; the next runner adopts it, reports and stops it', async () => {
      const job = testPod([{ name: 'ticker', image: 'busybox:1', command: ['sh', '-c', 'trap "echo bye; exit 0" TERM; i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.2; done'] }], { restartPolicy: 'Always' });
      const child = spawn(process.execPath, [join(import.meta.dirname, 'support/runner-child.ts'), executor, state, rootfs.path, JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'ignore'] });
      let before: PodSnapshot | undefined;
      let ticks = 0;
      let lastTick = 0;
      for await (const line of createInterface({ input: child.stdout! })) {
        const msg = JSON.parse(line) as { status?: PodSnapshot; log?: { record: { line: string } } };
        if (msg.status && statusOf(msg.status, 'ticker')?.state.running) before = msg.status;
        if (msg.log?.record.line.startsWith('tick')) {
          ticks++;
          lastTick = Number(msg.log.record.line.split(' ')[1]);
        }
        if (before && ticks >= 2) break;
      }
      child.kill('SIGKILL');
      // 'exit', not 'close': the detached container monitor may still hold the dead worker's
      // stdout pipe open, so 'close' can never come (this hung the suite once).
      if (child.exitCode === null && child.signalCode === null) await new Promise((r) => child.once('exit', r));
      child.stdout?.destroy(); // nothing of the dead worker may keep this test process alive
      child.unref();
      const containerID = statusOf(before!, 'ticker').containerID;

      const images = dirImageSource(rootfs.path, join(state, 'snap'));
      const run = join(state, 'run'); // as support/runner-child.ts: the worker's split layout
      const runtime = new RuntimeService({ root: state, runRoot: run, executor: crashTestExecutor(executor, run), images, network: { mode: 'none' } });
      runner = new RuntimePodRunner({ runtime, images });
      assert.deepEqual(runner.recover(), [job.uid]);
      assert.deepEqual(runner.list(), [job.uid]);
      const rec = new Recorder();
      const done = runner.run(job, rec);
      const adopted = await rec.until('adopted running', (s) => statusOf(s, 'ticker').state.running !== undefined);
      assert.equal(statusOf(adopted, 'ticker').containerID, containerID);
      assert.equal(statusOf(adopted, 'ticker').restartCount, 0);
      const ticksNow = () => rec.lines('ticker').filter((l) => l.startsWith('tick')).map((l) => Number(l.split(' ')[1]));
      await rec.until('ticks after the kill', () => ticksNow().some((n) => n > lastTick + 1));
      // Resumes from the saved position: at most the lines sent just before the kill repeat.
      assert.ok(ticksNow()[0] >= lastTick - 2, `resumed at tick ${ticksNow()[0]}, last sent before the kill: ${lastTick}`);
      assert.ok(!rec.notes().some((n) => n.reason === 'Started' || n.reason === 'Created'), 'nothing was started again');
      await runner.stop(job.uid, 5);
      const outcome = await done;
      assert.equal(outcome.phase, 'Succeeded');
      assert.equal(statusOf(rec.last, 'ticker').state.terminated.exitCode, 0);
      assert.ok(rec.lines('ticker').includes('bye'));
      assert.deepEqual(rec.notes().filter((n) => n.reason === 'FailedKillPod').map((n) => n.message), [], 'the pod was torn down');
      assert.deepEqual(await podLeftovers(job.uid, runtime.podDir(job.uid), runtime.executor), []);
      assert.deepEqual(await podLeftovers(job.uid, runtime.podDataDir(job.uid), runtime.executor), []);
    });
  });
}
