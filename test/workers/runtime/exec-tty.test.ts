// Interactive exec with a TTY through the PodRunner (what the kubelet API's exec reaches over
// Redis): the session's output is the terminal's, resize reaches the process; a worker on
// runc refuses a TTY clearly.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { burstletExecutor } from '../../../workers/executor/burstlet.ts';
import { runcExecutor } from '../../../workers/executor/runc.ts';
import { RuntimePodRunner } from '../../../workers/runtime/pod-runner.ts';
import { RuntimeService } from '../../../workers/runtime/runtime-service.ts';
import { dirImageSource } from './support/dir-image-source.ts';
import { podLeftovers } from './support/leaks.ts';
import { testPod } from './support/pod.ts';
import { Recorder, statusOf } from './support/recorder.ts';
import { busyboxRootfs, hasBinary, ROOT_SKIP } from './support/rootfs.ts';

describe('exec with a TTY through the PodRunner (root)', { skip: ROOT_SKIP }, () => {
  let rootfs: ReturnType<typeof busyboxRootfs>;
  let root: string;
  before(() => {
    rootfs = busyboxRootfs();
    root = mkdtempSync(join(tmpdir(), 'burstlet-exec-tty-'));
  });
  after(() => {
    rootfs.remove();
    rmSync(root, { recursive: true, force: true });
  });

  function runnerOn(name: 'burstlet' | 'runc') {
    const images = dirImageSource(rootfs.path, join(root, name, 'snap'));
    const executor = name === 'burstlet' ? burstletExecutor(join(root, name, 'executor')) : runcExecutor(join(root, name, 'executor'));
    const rt = new RuntimeService({ root: join(root, name), executor, images, network: { mode: 'none' } });
    return { rt, runner: new RuntimePodRunner({ runtime: rt, images }) };
  }

  async function started(runner: RuntimePodRunner, rec: Recorder) {
    const job = testPod([{ name: 'shell', image: 'busybox:1', command: ['sleep', '600'] }], { terminationGracePeriodSeconds: 0 });
    const outcome = runner.run(job, rec);
    for (let i = 0; i < 3000 && !rec.snapshots.some((s) => statusOf(s, 'shell')?.state.running); i++) await new Promise((r) => setTimeout(r, 10));
    return { job, outcome };
  }

  test('burstlet: terminal output, resize, exit code', async () => {
    const { rt, runner } = runnerOn('burstlet');
    const rec = new Recorder();
    const { job, outcome } = await started(runner, rec);
    const session = await runner.exec(job.uid, 'shell', ['sh', '-c', 'trap "stty size" WINCH; tty; echo ready; until read x; do :; done; echo "got $x"; exit 4'], { stdin: true, tty: true });
    let out = '';
    let exit: number | undefined;
    const done = (async () => {
      for await (const o of session.output) {
        if (o.kind === 'exit') exit = o.exitCode;
        else out += Buffer.from(o.dataBase64 ?? '', 'base64').toString();
      }
    })();
    const until = async (text: string) => {
      for (let i = 0; i < 2000 && !out.includes(text); i++) await new Promise((r) => setTimeout(r, 10));
      assert.ok(out.includes(text), `${JSON.stringify(text)} in ${JSON.stringify(out)}`);
    };
    await until('ready\r\n');
    session.resize(100, 31);
    await until('31 100\r\n');
    session.write(Buffer.from('hi\n'));
    await done;
    assert.equal(exit, 4);
    assert.match(out, /^\/dev\/pts\/\d+\r\n/);
    assert.match(out, /got hi\r\n/);
    await runner.stop(job.uid, 0);
    await outcome;
    assert.deepEqual(await podLeftovers(job.uid, rt.podDir(job.uid), rt.executor), []);
  });

  test('runc: a TTY is refused with a clear error', { skip: !hasBinary('runc') && 'runc not installed' }, async () => {
    const { runner } = runnerOn('runc');
    const rec = new Recorder();
    const { job, outcome } = await started(runner, rec);
    await assert.rejects(runner.exec(job.uid, 'shell', ['sh'], { stdin: true, tty: true }), /needs the burstlet runtime/);
    await runner.stop(job.uid, 0);
    await outcome;
  });
});
