// The PodRunner lifecycle on runc: real containers, kubelet-shaped statuses.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ContainerSpec, PodJob } from '../../../src/schema/pod-job.ts';
import { runcExecutor } from '../../../workers/executor/runc.ts';
import { RuntimePodRunner } from '../../../workers/runtime/pod-runner.ts';
import { RuntimeService } from '../../../workers/runtime/runtime-service.ts';
import { dirImageSource } from './support/dir-image-source.ts';
import { podLeftovers } from './support/leaks.ts';
import { testPod } from './support/pod.ts';
import { condition, Recorder, statusOf } from './support/recorder.ts';
import { busyboxRootfs, hasBinary, ROOT_SKIP } from './support/rootfs.ts';

const fast = { baseMs: 300, maxMs: 1_200, resetMs: 600_000 };
const sh = (name: string, script: string, more: Partial<ContainerSpec> = {}): ContainerSpec => ({ name, image: 'busybox:1', command: ['sh', '-c', script], ...more });

describe('PodRunner lifecycle on runc (root)', { skip: ROOT_SKIP || (!hasBinary('runc') && 'runc not installed') }, () => {
  let rootfs: ReturnType<typeof busyboxRootfs>;
  let root: string;
  let rt: RuntimeService;
  let runner: RuntimePodRunner;

  before(() => {
    rootfs = busyboxRootfs();
    root = mkdtempSync(join(tmpdir(), 'burstlet-runner-'));
    const images = dirImageSource(rootfs.path, join(root, 'snap'));
    rt = new RuntimeService({ root, executor: runcExecutor(join(root, 'executor')), images, network: { mode: 'none' } });
    runner = new RuntimePodRunner({ runtime: rt, images, timing: { backoff: fast, pullBackoff: fast, statsIntervalMs: 200 } });
  });
  after(async () => {
    await runner.close();
    rootfs.remove();
    rmSync(root, { recursive: true, force: true });
  });

  async function runPod(job: PodJob, rec = new Recorder()) {
    const outcome = await runner.run(job, rec);
    assert.deepEqual(await podLeftovers(job.uid, rt.podDir(job.uid), rt.executor), []);
    return { outcome, rec };
  }

  test('init container feeds the app containers through an emptyDir; pod Succeeded with kubelet statuses', async () => {
    const job = testPod([
      sh('reader', 'cat /work/greeting', { volumeMounts: [{ name: 'work', mountPath: '/work' }] }),
      sh('second', 'cat /work/greeting; echo done >&2', { volumeMounts: [{ name: 'work', mountPath: '/work' }] }),
    ], {
      initContainers: [sh('init', 'echo hello-from-init > /work/greeting', { volumeMounts: [{ name: 'work', mountPath: '/work' }] })],
      volumes: [{ name: 'work', type: 'emptyDir' }],
    });
    const { outcome, rec } = await runPod(job);
    assert.deepEqual(outcome, { phase: 'Succeeded' });
    const s = rec.last;
    assert.equal(s.phase, 'Succeeded');
    const init = statusOf(s, 'init');
    assert.equal(init.state.terminated.reason, 'Completed');
    assert.match(init.state.terminated.containerID, /^burstlet:\/\//);
    assert.equal(init.imageID, `sha256:${'ab'.repeat(32)}`);
    assert.equal(statusOf(s, 'reader').state.terminated.exitCode, 0);
    assert.deepEqual(rec.lines('reader'), ['hello-from-init']);
    // runc writes stdout and stderr to two raw files that a pump merges (oci-cli.ts): lines of
    // the two streams may arrive in either order, each stream's own order is kept.
    assert.deepEqual(rec.lines('second').sort(), ['done', 'hello-from-init']);
    assert.deepEqual(s.conditions!.map((c) => `${c.type}=${c.status}`), ['PodReadyToStartContainers=False', 'Initialized=True', 'Ready=False', 'ContainersReady=False', 'PodScheduled=True']);
    assert.equal(s.conditions!.find((c) => c.type === 'Ready')!.reason, 'PodCompleted');
    assert.ok(rec.snapshots.some((x) => x.phase === 'Pending' && statusOf(x, 'reader').state.waiting?.reason === 'PodInitializing'));
    const reasons = rec.notes().map((n) => n.reason);
    for (const r of ['Pulled', 'Created', 'Started']) assert.ok(reasons.includes(r), r);
  });

  test('a sandbox removal that fails is tried again: the pod ends torn down, no FailedKillPod', async () => {
    // A runtime whose first two sandbox removals fail half-way, after the containers went.
    class Flaky extends RuntimeService {
      failures = 2;
      override async removePodSandbox(uid: string): Promise<void> {
        if (this.failures-- > 0) {
          await this.stopPodSandbox(uid);
          throw new Error('device or resource busy (injected)');
        }
        return super.removePodSandbox(uid);
      }
    }
    const images = dirImageSource(rootfs.path, join(root, 'snap'));
    const flaky = new Flaky({ root: join(root, 'flaky'), executor: runcExecutor(join(root, 'flaky', 'executor')), images, network: { mode: 'none' } });
    const flakyRunner = new RuntimePodRunner({ runtime: flaky, images, timing: { backoff: fast, pullBackoff: fast, statsIntervalMs: 200 } });
    const job = testPod([sh('c', 'echo hi')], { restartPolicy: 'Never' });
    const rec = new Recorder();
    const outcome = await flakyRunner.run(job, rec);
    assert.equal(outcome.phase, 'Succeeded');
    assert.equal(flaky.failures, -1, 'removed on the third try');
    assert.deepEqual(rec.notes().filter((n) => n.reason === 'FailedKillPod'), []);
    assert.deepEqual(await podLeftovers(job.uid, flaky.podDir(job.uid), flaky.executor), []);
  });

  test('restartPolicy Always: CrashLoopBackOff with growing back-off, restartCount and lastState', async () => {
    const job = testPod([sh('crash', 'echo boom; exit 1')], { restartPolicy: 'Always' });
    const rec = new Recorder();
    const done = runner.run(job, rec);
    const seen = await rec.until('restartCount 3', (s) => statusOf(s, 'crash').restartCount >= 3);
    assert.equal(seen.phase, 'Running');
    const backoffs = rec.snapshots.map((s) => statusOf(s, 'crash').state.waiting).filter((w) => w?.reason === 'CrashLoopBackOff').map((w) => w.message);
    assert.ok(backoffs.some((m) => /^back-off 0s|^back-off 1s/.test(m)), backoffs.join('|'));
    const withLast = rec.snapshots.map((s) => statusOf(s, 'crash')).find((c) => c.restartCount >= 1 && c.lastState.terminated);
    assert.equal(withLast.lastState.terminated.exitCode, 1);
    assert.equal(withLast.lastState.terminated.reason, 'Error');
    assert.ok(rec.notes().some((n) => n.reason === 'BackOff'));
    await runner.stop(job.uid, 0);
    assert.equal((await done).phase, 'Failed');
    assert.deepEqual(await podLeftovers(job.uid, rt.podDir(job.uid), rt.executor), []);
  });

  test('restartPolicy OnFailure restarts a failed container until it succeeds', async () => {
    const job = testPod([sh('flaky', 'if [ -f /v/once ]; then echo ok; else touch /v/once; exit 3; fi', { volumeMounts: [{ name: 'v', mountPath: '/v' }] })], {
      restartPolicy: 'OnFailure', volumes: [{ name: 'v', type: 'emptyDir' }],
    });
    const { outcome, rec } = await runPod(job);
    assert.equal(outcome.phase, 'Succeeded');
    const st = statusOf(rec.last, 'flaky');
    assert.equal(st.restartCount, 1);
    assert.equal(st.lastState.terminated.exitCode, 3);
    assert.deepEqual(rec.logs.filter((l) => l.container === 'flaky').map((l) => `${l.record.attempt}:${l.record.line}`), ['1:ok']);
  });

  test('a pod carried over from a lost worker: its containers go on from the carried restartCount and lastState, attempts (log attempt, container id) too', async () => {
    const lost = { terminated: { exitCode: 137, reason: 'ContainerStatusUnknown', message: 'The container could not be located: worker wa was lost while it ran' } };
    const completed = { terminated: { exitCode: 0, reason: 'Completed' } };
    const job = testPod([sh('app', 'echo again'), sh('fresh', 'true')], { restartPolicy: 'OnFailure', initContainers: [sh('init', 'true')] });
    const rec = new Recorder();
    const carried = { app: { restartCount: 2, lastState: lost }, init: { restartCount: 1, lastState: completed }, fresh: { restartCount: 0 } };
    const outcome = await runner.run(job, rec, { carried });
    assert.deepEqual(await podLeftovers(job.uid, rt.podDir(job.uid), rt.executor), []);
    assert.deepEqual(outcome, { phase: 'Succeeded' });
    for (const s of rec.snapshots) {
      assert.equal(statusOf(s, 'app').restartCount, 2);
      assert.deepEqual(statusOf(s, 'app').lastState, lost);
      assert.equal(statusOf(s, 'init').restartCount, 1);
      assert.deepEqual(statusOf(s, 'fresh').lastState, {});
    }
    const app = statusOf(rec.last, 'app').state.terminated;
    assert.equal(app.exitCode, 0);
    assert.match(app.containerID, /_app_2$/);
    assert.equal(statusOf(rec.last, 'fresh').restartCount, 0);
    assert.deepEqual(rec.logs.filter((l) => l.container === 'app').map((l) => `${l.record.attempt}:${l.record.line}`), ['2:again']);
  });

  test('OnFailure carried over from a lost worker: a container that had succeeded is not run again; all succeeded → nothing runs at all', async () => {
    const done = { exitCode: 0, reason: 'Completed', startedAt: '2026-01-01T00:00:00Z', finishedAt: '2026-01-01T00:00:01Z' };
    const job = testPod([sh('finished', 'echo ran-again'), sh('other', 'echo other')], { restartPolicy: 'OnFailure' });
    const rec = new Recorder();
    const outcome = await runner.run(job, rec, { carried: { finished: { restartCount: 1, completed: done }, other: { restartCount: 0 } } });
    assert.deepEqual(outcome, { phase: 'Succeeded' });
    assert.deepEqual(statusOf(rec.last, 'finished').state.terminated, done);
    assert.equal(statusOf(rec.last, 'finished').restartCount, 1);
    assert.deepEqual(rec.logs.filter((l) => l.container === 'finished'), [], 'it did not run');
    assert.ok(!rec.notes().some((n) => n.container === 'finished' && (n.reason === 'Created' || n.reason === 'Started')));
    assert.deepEqual(rec.logs.filter((l) => l.container === 'other').map((l) => l.record.line), ['other']);
    assert.deepEqual(await podLeftovers(job.uid, rt.podDir(job.uid), rt.executor), []);

    const all = testPod([sh('only', 'echo ran-again')], { restartPolicy: 'OnFailure', initContainers: [sh('init', 'echo init-again')] });
    const rec2 = new Recorder();
    const outcome2 = await runner.run(all, rec2, { carried: { init: { restartCount: 0, completed: done }, only: { restartCount: 0, completed: done } } });
    assert.deepEqual(outcome2, { phase: 'Succeeded' });
    assert.deepEqual(rec2.logs, [], 'neither the init nor the app container ran');
    assert.ok(!rec2.notes().some((n) => n.reason === 'Created' || n.reason === 'Pulled'), 'no sandbox, no pull, no container');
    assert.deepEqual(statusOf(rec2.last, 'only').state.terminated, done);
    assert.equal(rec2.last.phase, 'Succeeded');
  });

  test('restartPolicy Never: failure ends Failed; termination message from file and from logs; OOMKilled', async () => {
    const job = testPod([
      sh('msg', 'echo custom-message > /dev/termination-log; exit 4'),
      sh('logs', 'echo last words; exit 5', { terminationMessagePolicy: 'FallbackToLogsOnError' }),
      { name: 'hog', image: 'busybox:1', command: ['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=200M', 'count=1'], limits: { memoryBytes: 32 << 20 }, requests: { cpuMillis: 1000 } },
    ]);
    const { outcome, rec } = await runPod(job);
    assert.equal(outcome.phase, 'Failed');
    assert.equal(rec.last.phase, 'Failed');
    assert.equal(statusOf(rec.last, 'msg').state.terminated.message, 'custom-message\n');
    assert.equal(statusOf(rec.last, 'logs').state.terminated.message, 'last words');
    const hog = statusOf(rec.last, 'hog').state.terminated;
    assert.equal(hog.reason, 'OOMKilled');
    assert.equal(hog.exitCode, 137);
  });

  test('a failing init container under Never fails the pod; app containers never start', async () => {
    const job = testPod([sh('app', 'echo never')], { initContainers: [sh('init', 'exit 7')] });
    const { outcome, rec } = await runPod(job);
    assert.equal(outcome.phase, 'Failed');
    assert.equal(statusOf(rec.last, 'init').state.terminated.exitCode, 7);
    assert.equal(condition(rec.last, 'Initialized'), 'False');
    assert.ok(statusOf(rec.last, 'app').state.waiting);
    assert.deepEqual(rec.lines('app'), []);
  });

  test('activeDeadlineSeconds ends the pod Failed with DeadlineExceeded', async () => {
    const job = testPod([sh('sleeper', 'sleep 1000')], { activeDeadlineSeconds: 1, terminationGracePeriodSeconds: 1 });
    const { outcome, rec } = await runPod(job);
    assert.deepEqual(outcome, { phase: 'Failed', reason: 'DeadlineExceeded', message: 'Pod was active on the node longer than the specified deadline' });
    assert.equal(rec.last.reason, 'DeadlineExceeded');
    assert.ok(rec.notes().some((n) => n.reason === 'DeadlineExceeded'));
  });

  test('stop: preStop runs, SIGTERM reaches the container, a TERM-ignoring one is killed at the grace deadline', async () => {
    const job = testPod([
      sh('polite', 'trap "echo got-term; cat /v/prestop; exit 0" TERM; echo up; while true; do sleep 0.05; done', {
        volumeMounts: [{ name: 'v', mountPath: '/v' }], lifecycle: { preStop: { exec: { command: ['sh', '-c', 'echo prestop-ran > /v/prestop'] } } },
      }),
      sh('stubborn', 'trap "" TERM; echo up; while true; do sleep 0.05; done'),
    ], { restartPolicy: 'Always', volumes: [{ name: 'v', type: 'emptyDir' }] });
    const rec = new Recorder();
    const done = runner.run(job, rec);
    await rec.until('both running', (s) => s.phase === 'Running' && (s.containerStatuses ?? []).every((c: any) => c.state.running));
    await rec.until('ready', (s) => condition(s, 'Ready') === 'True');
    await rec.until('stats of both containers', () => rec.samples.some((x) => x.containers.length === 2 && x.containers.every((c) => (c.memory?.usageBytes ?? 0) > 0 && (c.cpu?.usageCoreNanoSeconds ?? 0) > 0)));
    const sample = rec.samples.findLast((x) => x.containers.length === 2)!;
    assert.equal(sample.memory!.usageBytes, sample.containers.reduce((n, c) => n + c.memory!.usageBytes!, 0));
    await rec.until('a CPU rate', () => rec.samples.some((x) => x.cpu?.usageNanoCores !== undefined));
    await runner.stop(job.uid, 2);
    const outcome = await done;
    assert.equal(outcome.phase, 'Failed');
    assert.deepEqual(rec.lines('polite'), ['up', 'got-term', 'prestop-ran']);
    assert.equal(statusOf(rec.last, 'polite').state.terminated.exitCode, 0);
    assert.equal(statusOf(rec.last, 'stubborn').state.terminated.exitCode, 137);
    assert.equal(rec.notes().filter((n) => n.reason === 'Killing').length, 2);
    assert.deepEqual(await podLeftovers(job.uid, rt.podDir(job.uid), rt.executor), []);
  });

  test('probes: httpGet startup, exec readiness flips Ready false and back, tcpSocket liveness holds, failing liveness restarts', async () => {
    const job = testPod([
      sh('web', 'mkdir -p /tmp/www; echo ok > /tmp/www/index.html; touch /tmp/ready; exec httpd -f -p 8080 -h /tmp/www', {
        ports: [{ name: 'http', containerPort: 8080 }],
        startupProbe: { httpGet: { path: '/index.html', port: 'http' }, periodSeconds: 1, failureThreshold: 30 },
        readinessProbe: { exec: { command: ['test', '-f', '/tmp/ready'] }, periodSeconds: 1, failureThreshold: 1 },
        livenessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1, failureThreshold: 3 },
      }),
      sh('doomed', 'sleep 1000', { livenessProbe: { exec: { command: ['false'] }, periodSeconds: 1, failureThreshold: 2 } }),
    ], { restartPolicy: 'Always', terminationGracePeriodSeconds: 1 });
    const rec = new Recorder();
    const done = runner.run(job, rec);
    await rec.until('web ready', (s) => statusOf(s, 'web').ready === true);
    const id = (await rt.listContainers({ podUid: job.uid })).find((c) => c.name === 'web' && c.state === 'CONTAINER_RUNNING')!.id;
    await rt.execSync(id, ['rm', '/tmp/ready'], 10);
    await rec.until('web unready', (s) => statusOf(s, 'web').ready === false && s.phase === 'Running' && statusOf(s, 'web').state.running !== undefined);
    await rt.execSync(id, ['touch', '/tmp/ready'], 10);
    const back = rec.snapshots.length;
    await rec.until('web ready again', (s) => rec.snapshots.indexOf(s) >= back && statusOf(s, 'web').ready === true);
    await rec.until('doomed restarted', (s) => statusOf(s, 'doomed').restartCount >= 1);
    assert.ok(rec.notes().some((n) => n.reason === 'Unhealthy' && n.container === 'doomed' && /Liveness/.test(n.message)));
    assert.equal(statusOf(rec.last, 'web').restartCount, 0, JSON.stringify(rec.notes().filter((n) => n.container === 'web')));
    assert.equal(statusOf(rec.last, 'web').started, true);
    await runner.stop(job.uid, 1);
    await done;
  });

  test('a missing image backs off (ErrImagePull → ImagePullBackOff) until the pod is stopped', async () => {
    const job = testPod([{ name: 'c', image: 'missing:1' }]);
    const rec = new Recorder();
    const done = runner.run(job, rec);
    await rec.until('ImagePullBackOff', (s) => statusOf(s, 'c').state.waiting?.reason === 'ImagePullBackOff');
    assert.ok(rec.snapshots.some((s) => statusOf(s, 'c').state.waiting?.reason === 'ErrImagePull'));
    await runner.stop(job.uid, 0);
    const outcome = await done;
    assert.equal(outcome.phase, 'Failed');
    assert.equal(outcome.reason, 'ErrImagePull');
    assert.deepEqual(await podLeftovers(job.uid, rt.podDir(job.uid), rt.executor), []);
  });
});
