// End to end on this host: a real registry, the ImageService (pull + snapshots), runc.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ImageService } from '../../../workers/image/image-service.ts';
import { createPodRuntime } from '../../../workers/runtime/create-pod-runner.ts';
import { pullPolicyOf } from '../../../workers/runtime/image-source.ts';
import { pushTestImages } from '../../support/images.ts';
import { startRegistry, type Registry } from '../../support/registry.ts';
import { podLeftovers } from './support/leaks.ts';
import { testPod } from './support/pod.ts';
import { Recorder, statusOf } from './support/recorder.ts';
import { hasBinary, ROOT_SKIP } from './support/rootfs.ts';

const TMPFS_MAGIC = 0x01021994;
async function waitUntil(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((r) => setTimeout(r, 20));
}

test('pullPolicyOf: the kubelet defaults (Always for latest/untagged, IfNotPresent otherwise)', () => {
  assert.equal(pullPolicyOf({ image: 'busybox' }), 'Always');
  assert.equal(pullPolicyOf({ image: 'busybox:latest' }), 'Always');
  assert.equal(pullPolicyOf({ image: 'reg:5000/busybox' }), 'Always');
  assert.equal(pullPolicyOf({ image: 'reg:5000/busybox:1.36' }), 'IfNotPresent');
  assert.equal(pullPolicyOf({ image: `busybox@sha256:${'a'.repeat(64)}` }), 'IfNotPresent');
  assert.equal(pullPolicyOf({ image: 'busybox', imagePullPolicy: 'Never' }), 'Never');
});

describe('createPodRuntime with the ImageService and runc (root)', { skip: ROOT_SKIP || (!hasBinary('runc') && 'runc not installed') || (!hasBinary('registry') && !hasBinary('docker-registry') && 'no registry binary') }, () => {
  let reg: Registry;
  let state: string;
  let ref: string;
  let built: ReturnType<typeof createPodRuntime>;
  let images: ImageService;

  before(async () => {
    reg = await startRegistry();
    ref = (await pushTestImages(reg, ['busybox'])).busybox.ref;
    state = mkdtempSync(join(tmpdir(), 'burstlet-e2e-'));
    images = new ImageService({ root: join(state, 'images'), registry: { allowLoopbackHttp: true } });
    built = createPodRuntime({ runtime: 'runc', stateDir: state, network: 'none', allowPrivileged: false, allowHostPath: false }, images);
  });
  after(async () => {
    await built?.runner.close();
    const released = built?.release();
    await reg?.stop();
    rmSync(state, { recursive: true, force: true });
    assert.equal(released, true, 'no pod left: the run directory goes');
  });

  test('the run directory is a tmpfs while the worker runs and goes once no pod is left', async () => {
    const runDir = join(state, 'run');
    assert.equal(statfsSync(runDir).type, TMPFS_MAGIC);
    const job = testPod([{ name: 'c', image: ref, imagePullPolicy: 'IfNotPresent', command: ['sleep', '30'] }]);
    const running = built.runner.run(job, new Recorder());
    await waitUntil(() => built.runtime.listContainers({ podUid: job.uid }).then((l) => l.some((c) => c.state === 'CONTAINER_RUNNING')));
    assert.equal(built.release(), false, 'a running pod keeps the run directory');
    assert.equal(statfsSync(runDir).type, TMPFS_MAGIC);
    await built.runner.stop(job.uid, 0);
    await running;
    assert.equal(built.release(), true);
    assert.ok(!existsSync(runDir));
    assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(runDir));
    built = createPodRuntime({ runtime: 'runc', stateDir: state, network: 'none', allowPrivileged: false, allowHostPath: false }, images);
    assert.equal(statfsSync(runDir).type, TMPFS_MAGIC, 'the next worker mounts it again');
  });

  test('a pod pulls its image, runs on snapshot rootfs, reports the config digest; IfNotPresent does not pull again', async () => {
    const job = testPod([{ name: 'c', image: ref, command: ['sh', '-c', 'echo from-registry; ls /bin/busybox'] }]);
    const rec = new Recorder();
    const out = await built.runner.run(job, rec);
    assert.equal(out.phase, 'Succeeded', JSON.stringify(rec.last));
    assert.deepEqual(rec.lines('c'), ['from-registry', '/bin/busybox']);
    const reasons = rec.notes().map((n) => n.reason);
    assert.ok(reasons.includes('Pulling') && reasons.includes('Pulled'), reasons.join(','));
    assert.match(statusOf(rec.last, 'c').imageID, /^sha256:[a-f0-9]{64}$/);
    assert.deepEqual(await podLeftovers(job.uid, built.runtime.podDir(job.uid), built.runtime.executor), []);
    assert.ok(!existsSync(built.runtime.podDataDir(job.uid)), 'the pod\'s logs and volumes went with it');

    const again = testPod([{ name: 'c', image: ref, imagePullPolicy: 'IfNotPresent', command: ['true'] }]);
    const rec2 = new Recorder();
    assert.equal((await built.runner.run(again, rec2)).phase, 'Succeeded');
    assert.ok(!rec2.notes().some((n) => n.reason === 'Pulling'));
  });

  test('a missing image under pull policy Never fails the pod with ErrImageNeverPull at once', async () => {
    const job = testPod([{ name: 'c', image: `${reg.host}/nothing:1`, imagePullPolicy: 'Never' }]);
    const rec = new Recorder();
    const out = await built.runner.run(job, rec);
    assert.deepEqual([out.phase, out.reason], ['Failed', 'ErrImageNeverPull']);
    assert.equal(statusOf(rec.last, 'c').state.waiting.reason, 'ErrImageNeverPull');
    assert.match(statusOf(rec.last, 'c').state.waiting.message, /not present with pull policy of Never/);
  });
});
