// Bridge networking through the real CNI plugins, on a bridge and subnet of its own.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseCri } from '../../../workers/executor/cri-log-lines.ts';
import { runcExecutor } from '../../../workers/executor/runc.ts';
import { RuntimeService } from '../../../workers/runtime/runtime-service.ts';
import { portMappings } from '../../../workers/runtime/cni.ts';
import { freePort } from '../../support/ports.ts';
import { dirImageSource } from './support/dir-image-source.ts';
import { podLeftovers } from './support/leaks.ts';
import { testPod } from './support/pod.ts';
import { busyboxRootfs, hasBinary, ROOT_SKIP } from './support/rootfs.ts';

const stdout = (path: string) => readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => parseCri(l)!).map((l) => l.line);
const sh = (cmd: string) => execFileSync('sh', ['-c', cmd], { encoding: 'utf8' });

test('portMappings: hostPorts of every container, protocol lower-cased', () => {
  const job = testPod([
    { name: 'a', image: 'x', ports: [{ containerPort: 80, hostPort: 8080 }, { containerPort: 81 }] },
    { name: 'b', image: 'x', ports: [{ containerPort: 53, hostPort: 5353, protocol: 'UDP', hostIP: '127.0.0.1' }] },
  ]);
  assert.deepEqual(portMappings(job), [
    { hostPort: 8080, containerPort: 80, protocol: 'tcp' },
    { hostPort: 5353, containerPort: 53, protocol: 'udp', hostIP: '127.0.0.1' },
  ]);
});

describe('bridge network via CNI (root)', { skip: ROOT_SKIP || (!hasBinary('runc') && 'runc not installed') || (!existsSync('/usr/lib/cni/bridge') && 'CNI plugins not installed') }, () => {
  const tag = randomBytes(3).toString('hex');
  const bridge = `blt${tag}`;
  const subnet = `10.${200 + (parseInt(tag.slice(0, 2), 16) % 50)}.${parseInt(tag.slice(2, 4), 16)}.0/24`;
  let rootfs: ReturnType<typeof busyboxRootfs>;
  let root: string;
  let rt: RuntimeService;

  before(() => {
    rootfs = busyboxRootfs();
    root = mkdtempSync(join(tmpdir(), 'burstlet-cni-'));
    rt = new RuntimeService({
      root, executor: runcExecutor(join(root, 'executor')), images: dirImageSource(rootfs.path, join(root, 'snap')),
      network: { mode: 'bridge', bridge: { bridge, subnet, ipamDir: join(root, 'ipam'), name: `burstlet-test-${tag}` } },
    });
  });
  after(() => {
    try {
      sh(`ip link del ${bridge} 2>/dev/null || true`);
    } finally {
      rootfs.remove();
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('pods get IPs from the subnet, reach each other, hostPort maps; DEL leaves no veth, lease or NAT rule', async () => {
    const image = await dirImageSource(rootfs.path, join(root, 'snap')).ensure({ image: 'busybox:1' }, undefined, () => {});
    const hostPort = await freePort();
    const server = testPod([{ name: 'srv', image: 'busybox:1', command: ['sh', '-c', 'while true; do echo pong | nc -l -p 9090; done'], ports: [{ containerPort: 9090, hostPort }], env: [{ name: 'MY_IP', fieldPath: 'status.podIP' }] }]);
    const a = await rt.runPodSandbox(server);
    assert.ok(a.podIP && a.podIP.startsWith(subnet.split('.').slice(0, 3).join('.')), a.podIP);
    const srv = await rt.createContainer(server.uid, server.containers[0], image, 0);
    await rt.startContainer(srv);
    const env = (await rt.execSync(srv, ['sh', '-c', 'echo $MY_IP; tail -1 /etc/hosts'], 10)).stdout.toString();
    assert.equal(env, `${a.podIP}\n${a.podIP}\t${server.name}\n`);

    const client = testPod([{ name: 'cli', image: 'busybox:1', command: ['sh', '-c', `until echo ping | nc -w 2 ${a.podIP} 9090; do sleep 0.1; done`] }]);
    const b = await rt.runPodSandbox(client);
    assert.notEqual(b.podIP, a.podIP);
    const cli = await rt.createContainer(client.uid, client.containers[0], image, 0);
    await rt.startContainer(cli);
    const done = await rt.waitContainer(cli);
    assert.equal(done.exitCode, 0);
    assert.deepEqual(stdout(done.logPath), ['pong']);

    const viaHostPort = await new Promise<string>((resolve, reject) => {
      const s = connect(hostPort, a.hostIP, () => s.end('hi\n'));
      let got = '';
      s.on('data', (d) => (got += d));
      s.on('close', () => resolve(got));
      s.on('error', reject);
      s.setTimeout(20_000, () => s.destroy(new Error('hostPort timed out')));
    });
    assert.equal(viaHostPort, 'pong\n');

    for (const p of [server, client]) {
      await rt.removePodSandbox(p.uid);
      assert.deepEqual(await podLeftovers(p.uid, rt.podDir(p.uid), rt.executor), []);
      assert.equal(sh(`iptables-save | grep -c '${p.uid}' || true`).trim(), '0');
    }
    assert.equal(sh(`ip -o link show master ${bridge} | wc -l`).trim(), '0');
    assert.equal(sh(`ls ${join(root, 'ipam')}/burstlet-test-${tag} 2>/dev/null | grep -c '^10\\.' || true`).trim(), '0');
  });
});
