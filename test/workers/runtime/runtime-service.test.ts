// RuntimeService over runc on real namespaces, mounts and cgroups.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BurstletError } from '../../../src/errors.ts';
import type { PodJob } from '../../../src/schema/pod-job.ts';
import { parseCri } from '../../../workers/executor/cri-log-lines.ts';
import { runcExecutor } from '../../../workers/executor/runc.ts';
import { RuntimeService } from '../../../workers/runtime/runtime-service.ts';
import { dirImageSource } from './support/dir-image-source.ts';
import { podLeftovers } from './support/leaks.ts';
import { b64, testPod } from './support/pod.ts';
import { busyboxRootfs, hasBinary, ROOT_SKIP } from './support/rootfs.ts';

const stdout = (path: string) => readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => parseCri(l)!).filter((l) => l.stream === 'stdout').map((l) => l.line);

describe('RuntimeService over runc (root)', { skip: ROOT_SKIP || (!hasBinary('runc') && 'runc not installed') }, () => {
  let rootfs: ReturnType<typeof busyboxRootfs>;
  let root: string;
  let rt: RuntimeService;
  const pods: PodJob[] = [];

  before(() => {
    rootfs = busyboxRootfs();
    root = mkdtempSync(join(tmpdir(), 'burstlet-rt-'));
    const executor = runcExecutor(join(root, 'executor'));
    rt = new RuntimeService({ root, executor, images: dirImageSource(rootfs.path, join(root, 'snap')), network: { mode: 'none' } });
  });
  after(async () => {
    for (const p of pods) await rt.removePodSandbox(p.uid).catch(() => undefined);
    rootfs.remove();
    rmSync(root, { recursive: true, force: true });
  });

  async function image(name = 'busybox:1') {
    return dirImageSource(rootfs.path, join(root, 'snap')).ensure({ image: name }, undefined, () => {});
  }

  test('two containers share the sandbox: hostname, loopback, an emptyDir; volume files keep their modes', async () => {
    const pod = testPod([
      { name: 'server', image: 'busybox:1', command: ['sh', '-c', 'hostname; echo from-server > /shared/note; nc -l -p 7070 -e sh -c \'read x; echo "$x" > /shared/got; echo pong\'; cat /shared/got'], volumeMounts: [{ name: 'shared', mountPath: '/shared' }] },
      {
        name: 'client', image: 'busybox:1',
        command: ['sh', '-c', 'until [ -f /shared/note ]; do sleep 0.05; done; cat /shared/note; until echo ping | nc 127.0.0.1 7070; do sleep 0.05; done; stat -c "%a %n" /cfg/app.conf /cfg/dir/key; cat /cfg/app.conf; echo; touch /cfg/x 2>/dev/null || echo ro; cat /etc/hosts | tail -1'],
        volumeMounts: [{ name: 'shared', mountPath: '/shared' }, { name: 'cfg', mountPath: '/cfg' }],
      },
    ], {
      volumes: [
        { name: 'shared', type: 'emptyDir' },
        { name: 'cfg', type: 'configMap', defaultMode: 0o640, files: [{ path: 'app.conf', contentBase64: b64('a=1') }, { path: 'dir/key', contentBase64: b64('k'), mode: 0o400 }] },
      ],
      hostAliases: [{ ip: '10.9.9.9', hostnames: ['alias.local'] }],
    });
    pods.push(pod);
    const sandbox = await rt.runPodSandbox(pod);
    assert.equal(sandbox.hostname, pod.name);
    const img = await image();
    const ids = [];
    for (const c of pod.containers) ids.push(await rt.createContainer(pod.uid, c, img, 0));
    assert.equal((await rt.containerStatus(ids[0])).state, 'CONTAINER_CREATED');
    for (const id of ids) await rt.startContainer(id);
    const [server, client] = await Promise.all(ids.map((id) => rt.waitContainer(id)));
    assert.equal(client.exitCode, 0, stdout(client.logPath).join('\n'));
    assert.equal(server.exitCode, 0);
    assert.equal(server.reason, 'Completed');
    assert.deepEqual(stdout(server.logPath), [pod.name, 'ping']);
    assert.deepEqual(stdout(client.logPath), ['from-server', 'pong', '640 /cfg/app.conf', '400 /cfg/dir/key', 'a=1', 'ro', '10.9.9.9\talias.local']);
    assert.equal((await rt.listContainers({ podUid: pod.uid })).length, 2);
  });

  test('exit reasons, STOPSIGNAL-less stop with grace then SIGKILL, execSync, termination message', async () => {
    const pod = testPod([
      { name: 'fail', image: 'busybox:1', command: ['sh', '-c', 'echo bad-thing > /dev/termination-log; exit 2'] },
      { name: 'stubborn', image: 'busybox:1', command: ['sh', '-c', 'trap "" TERM; echo up; while true; do sleep 0.05; done'] },
    ]);
    pods.push(pod);
    await rt.runPodSandbox(pod);
    const img = await image();
    const fail = await rt.createContainer(pod.uid, pod.containers[0], img, 0);
    const stubborn = await rt.createContainer(pod.uid, pod.containers[1], img, 0);
    await rt.startContainer(fail);
    await rt.startContainer(stubborn);
    const st = await rt.waitContainer(fail);
    assert.equal(st.reason, 'Error');
    assert.equal(st.exitCode, 2);
    assert.equal(await rt.terminationMessage(fail), 'bad-thing\n');
    const probe = await rt.execSync(stubborn, ['sh', '-c', 'echo alive; exit 3'], 10);
    assert.equal(probe.stdout.toString(), 'alive\n');
    assert.equal(probe.exitCode, 3);
    await rt.stopContainer(stubborn, 1);
    const killed = await rt.containerStatus(stubborn);
    assert.equal(killed.state, 'CONTAINER_EXITED');
    assert.equal(killed.exitCode, 137);
    await rt.removeContainer(fail);
    await rt.removeContainer(fail);
    await assert.rejects(rt.containerStatus(fail), /does not exist/);
  });

  test('user errors: hostPath refused, missing volume and runAsNonRoot → CreateContainerConfigError; nothing leaks', async () => {
    const refused = testPod([{ name: 'c', image: 'busybox:1' }], { volumes: [{ name: 'host', type: 'hostPath', hostPath: '/etc' }] });
    await assert.rejects(rt.runPodSandbox(refused), (e: unknown) => e instanceof BurstletError && e.reason === 'CreateContainerConfigError' && /"host".*not allowed/.test(e.message));
    assert.deepEqual(await podLeftovers(refused.uid, rt.podDir(refused.uid), rt.executor), []);
    const pod = testPod([
      { name: 'nv', image: 'busybox:1', volumeMounts: [{ name: 'ghost', mountPath: '/g' }] },
      { name: 'nr', image: 'busybox:1', securityContext: { runAsNonRoot: true } },
    ]);
    await rt.runPodSandbox(pod);
    const img = await image();
    for (const c of pod.containers) {
      await assert.rejects(rt.createContainer(pod.uid, c, img, 0), (e: unknown) => e instanceof BurstletError && e.reason === 'CreateContainerConfigError');
    }
    await rt.removePodSandbox(pod.uid);
    assert.deepEqual(await podLeftovers(pod.uid, rt.podDir(pod.uid), rt.executor), []);
  });

  test('removePodSandbox leaves no mounts, cgroups, containers or dirs (also with a Memory emptyDir)', async () => {
    const pod = testPod([{ name: 'c', image: 'busybox:1', command: ['sh', '-c', 'df /m | tail -1; sleep 1000'], volumeMounts: [{ name: 'm', mountPath: '/m' }] }], {
      volumes: [{ name: 'm', type: 'emptyDir', medium: 'Memory', sizeLimitBytes: 8 << 20 }],
    });
    await rt.runPodSandbox(pod);
    const id = await rt.createContainer(pod.uid, pod.containers[0], await image(), 0);
    await rt.startContainer(id);
    assert.equal((await rt.containerStatus(id)).state, 'CONTAINER_RUNNING');
    await rt.removePodSandbox(pod.uid);
    assert.deepEqual(await podLeftovers(pod.uid, rt.podDir(pod.uid), rt.executor), []);
  });

  test('with a run dir apart, a removed pod\'s data dir is the next pod\'s: /etc files rewritten, log files emptied and reused', async () => {
    const sep = join(root, 'sep');
    const sepRt = new RuntimeService({ root: join(sep, 'data'), runRoot: join(sep, 'run'), executor: runcExecutor(join(sep, 'executor')), images: dirImageSource(rootfs.path, join(root, 'snap')), network: { mode: 'none' } });
    const first = testPod([
      { name: 'a', image: 'busybox:1', command: ['sh', '-c', 'echo from-first; echo 10.1.1.1 added >> /etc/hosts; echo bye > /dev/termination-log; chmod 600 /dev/termination-log'] },
    ], { hostAliases: [{ ip: '10.9.9.9', hostnames: ['first.local'] }] });
    const second = testPod([{ name: 'a', image: 'busybox:1', command: ['sh', '-c', 'cat /etc/hosts /etc/hostname; stat -c %a /dev/termination-log; cat /dev/termination-log'] }]);
    const run = async (pod: PodJob) => {
      await sepRt.runPodSandbox(pod);
      const id = await sepRt.createContainer(pod.uid, pod.containers[0], await image(), 0);
      await sepRt.startContainer(id);
      const done = await sepRt.waitContainer(id);
      assert.equal(done.exitCode, 0, readFileSync(done.logPath, 'utf8'));
      return { done, message: await sepRt.terminationMessage(id) };
    };
    try {
      const one = await run(first);
      assert.equal(one.message, 'bye\n');
      const inodes = [sepRt.podDataDir(first.uid), one.done.logPath].map((p) => statSync(p).ino);
      assert.match(readFileSync(join(sepRt.podDataDir(first.uid), 'hosts'), 'utf8'), /first\.local[\s\S]*10\.1\.1\.1 added/);
      await sepRt.removePodSandbox(first.uid);
      assert.deepEqual(await podLeftovers(first.uid, sepRt.podDir(first.uid), sepRt.executor), []);
      assert.equal(existsSync(sepRt.podDataDir(first.uid)), false);
      const two = await run(second);
      assert.deepEqual([sepRt.podDataDir(second.uid), two.done.logPath].map((p) => statSync(p).ino), inodes, 'the same dir and log file, reused');
      const out = stdout(two.done.logPath);
      assert.doesNotMatch(out.join('\n'), /first|added|bye/, 'nothing of the first pod\'s files');
      assert.deepEqual(out.slice(-2), [second.name, '666'], 'its hostname; a termination log writable by anyone, and empty');
      assert.equal(out[0], '# Kubernetes-managed hosts file.');
      assert.equal(two.message, '');
    } finally {
      for (const p of [first, second]) await sepRt.removePodSandbox(p.uid).catch(() => undefined);
    }
    assert.deepEqual(await podLeftovers(second.uid, sepRt.podDir(second.uid), sepRt.executor), []);
  });

  test('host network: a lone Never container runs without a pause process, in its own IPC namespace; two containers get one', async () => {
    const hostRt = new RuntimeService({ root: join(root, 'host'), executor: runcExecutor(join(root, 'host', 'executor')), images: dirImageSource(rootfs.path, join(root, 'snap')), network: { mode: 'host' } });
    const lone = testPod([{ name: 'c', image: 'busybox:1', command: ['sh', '-c', 'hostname; readlink /proc/self/ns/ipc; readlink /proc/self/ns/net; grep -E "^[0-9]+:(memory|pids):" /proc/self/cgroup | cut -d: -f3'] }]);
    const pair = testPod([{ name: 'a', image: 'busybox:1' }, { name: 'b', image: 'busybox:1' }]);
    try {
      const sb = await hostRt.runPodSandbox(lone);
      assert.equal(sb.pauseId, '');
      assert.deepEqual(await hostRt.executor.list(), [], 'no pause container');
      const id = await hostRt.createContainer(lone.uid, lone.containers[0], await image(), 0);
      await hostRt.startContainer(id);
      const done = await hostRt.waitContainer(id);
      assert.equal(done.exitCode, 0, readFileSync(done.logPath, 'utf8'));
      const [hostname, ipc, net, ...cgroups] = stdout(done.logPath);
      assert.equal(hostname, readFileSync('/proc/sys/kernel/hostname', 'utf8').trim());
      assert.equal(sb.podIP, sb.hostIP);
      assert.equal(net, readlinkSync('/proc/self/ns/net'), 'the host network');
      assert.notEqual(ipc, readlinkSync('/proc/self/ns/ipc'), 'an IPC namespace of its own');
      // Its one container's cgroup is the pod's own: no level between them.
      assert.ok(cgroups.length > 0, 'memory or pids cgroup shown');
      for (const cg of cgroups) assert.equal(cg, `/burstlet/${lone.uid}`);
      await hostRt.removePodSandbox(lone.uid);
      assert.deepEqual(await podLeftovers(lone.uid, hostRt.podDir(lone.uid), hostRt.executor), []);
      assert.notEqual((await hostRt.runPodSandbox(pair)).pauseId, '', 'containers to share a namespace: a pause process');
      assert.deepEqual(await hostRt.executor.list(), [`${pair.uid}_pause`]);
    } finally {
      for (const p of [lone, pair]) await hostRt.removePodSandbox(p.uid).catch(() => undefined);
    }
    assert.deepEqual(await podLeftovers(pair.uid, hostRt.podDir(pair.uid), hostRt.executor), []);
  });
});
