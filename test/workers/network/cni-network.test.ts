// CniNetwork against the real CNI plugins, real network namespaces and iptables.
// One bridge and subnet unique to this file; everything is removed in after().
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { BurstletError } from '../../../src/errors.ts';
import { CniNetwork, type PodNetworkResult } from '../../../workers/network/cni-network.ts';
import { defaultRouteInterface } from '../../../workers/network/host-net.ts';
import { freePort } from '../../support/ports.ts';
import { holdNetns, inNetns, linkExists, PLUGINS_SKIP, ROOT_SKIP, until, type NetnsHolder } from './support/netns.ts';

const run = promisify(execFile);
const BRIDGE = 'bltnet-t0';
const SUBNET = '10.254.231.0/24'; // outside 10.200-249, which test/workers/runtime/cni.test.ts draws from
const NETWORK = `burstlet-${BRIDGE}`;

const iptablesSave = async () => (await run('iptables-save')).stdout;
const tagged = (save: string, uid: string) => save.split('\n').filter((l) => l.includes(`id: \\"${uid}\\"`));

/** The host's address on its default-route interface (not loopback, not a test bridge). */
function hostAddress(): string | undefined {
  const iface = defaultRouteInterface(readFileSync('/proc/net/route', 'utf8'));
  return networkInterfaces()[iface ?? '']?.find((a) => a.family === 'IPv4')?.address;
}

/** GET http://host:port/ → body (rejects on any error). */
function httpGet(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = get({ host, port, path: '/index.html', timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

describe('CniNetwork bridge mode (root)', { skip: ROOT_SKIP || PLUGINS_SKIP }, () => {
  let stateDir: string;
  let net: CniNetwork;
  const holders: NetnsHolder[] = [];
  const children: ChildProcess[] = [];
  const uids: string[] = [];

  const pod = async (ports: Parameters<CniNetwork['setup']>[2] = []) => {
    const h = await holdNetns();
    holders.push(h);
    const uid = randomUUID();
    uids.push(uid);
    return { h, uid, res: await net.setup(uid, h.path, ports) };
  };

  before(async () => {
    await run('ip', ['link', 'del', BRIDGE]).catch(() => {}); // a bridge left by a killed run
    stateDir = mkdtempSync(join(tmpdir(), 'burstlet-net-'));
    net = new CniNetwork({ stateDir, bridge: BRIDGE, subnet: SUBNET });
  });

  after(async () => {
    for (const c of children) c.kill('SIGKILL');
    for (const uid of uids) await net.teardown(uid, undefined, []).catch(() => {});
    for (const h of holders) await h.kill();
    await net.gc([]).catch(() => {});
    await run('ip', ['link', 'del', BRIDGE]).catch(() => {});
    rmSync(stateDir, { recursive: true, force: true });
  });

  test('two pods get distinct IPs in the subnet, ping each other, the gateway and the host (root)', async () => {
    const a = await pod();
    const b = await pod();
    for (const r of [a.res, b.res]) {
      assert.match(r.ip, /^10\.254\.231\.\d+$/);
      assert.equal(r.gateway, '10.254.231.1');
      assert.equal(r.interface, 'eth0');
      assert.equal(r.cidr, SUBNET);
      assert.ok(await linkExists(r.hostInterface), `host veth ${r.hostInterface}`);
    }
    assert.notEqual(a.res.ip, b.res.ip);
    await inNetns(a.h.path, ['/bin/busybox', 'ping', '-c', '1', '-W', '10', b.res.ip]);
    await inNetns(b.h.path, ['/bin/busybox', 'ping', '-c', '1', '-W', '10', a.res.ip]);
    await inNetns(a.h.path, ['/bin/busybox', 'ping', '-c', '1', '-W', '10', a.res.gateway]);
    await inNetns(a.h.path, ['/bin/busybox', 'ping', '-c', '1', '-W', '10', '127.0.0.1']); // lo is up
    const host = hostAddress();
    if (host) await inNetns(a.h.path, ['/bin/busybox', 'ping', '-c', '1', '-W', '10', host]);
    assert.equal(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim(), '1');
    // egress NAT: traffic from the pod to other networks is masqueraded
    assert.ok(tagged(await iptablesSave(), a.uid).some((l) => l.includes('-j MASQUERADE')));
  });

  test('a hostPort serves the pod\'s httpd on the host address and on 127.0.0.1 (root)', async () => {
    const hostPort = await freePort();
    const { h, uid } = await pod([{ containerPort: 8080, hostPort, protocol: 'tcp' }, { containerPort: 9090, hostPort: 0, protocol: 'tcp' }]);
    const www = mkdtempSync(join(tmpdir(), 'burstlet-net-www-'));
    writeFileSync(join(www, 'index.html'), `hello from ${uid}`);
    const httpd = spawn('nsenter', [`--net=${h.path}`, '/bin/busybox', 'httpd', '-f', '-p', '8080', '-h', www], { stdio: 'ignore' });
    children.push(httpd);
    const targets = ['127.0.0.1', ...(hostAddress() ? [hostAddress()!] : [])];
    for (const target of targets) {
      let body = '';
      await until(`httpd via ${target}:${hostPort}`, async () => {
        body = await httpGet(target, hostPort).catch(() => '');
        return body !== '';
      });
      assert.equal(body, `hello from ${uid}`);
    }
    // 127.0.0.1 only crosses the bridge because portmap (snat) turned on route_localnet there
    assert.equal(readFileSync(`/proc/sys/net/ipv4/conf/${BRIDGE}/route_localnet`, 'utf8').trim(), '1');
    assert.ok(tagged(await iptablesSave(), uid).some((l) => l.includes(`--dports ${hostPort}`)));
    httpd.kill('SIGKILL');
    rmSync(www, { recursive: true, force: true });
  });

  test('setup and teardown are idempotent; teardown removes veth, lease and iptables rules (root)', async () => {
    const hostPort = await freePort();
    const ports = [{ containerPort: 80, hostPort, protocol: 'tcp' as const }];
    const { h, uid, res } = await pod(ports);
    const again: PodNetworkResult = await net.setup(uid, h.path, ports);
    assert.deepEqual(again, res);
    const leaseDir = join(stateDir, 'ipam', NETWORK);
    assert.ok(existsSync(join(leaseDir, res.ip)), 'lease recorded');
    assert.ok(tagged(await iptablesSave(), uid).length >= 3, 'masquerade and portmap rules present');

    await net.teardown(uid, h.path, ports);
    assert.equal(await linkExists(res.hostInterface), false, 'veth removed');
    assert.equal(existsSync(join(leaseDir, res.ip)), false, 'lease released');
    const save = await iptablesSave();
    assert.deepEqual(tagged(save, uid), []);
    assert.equal(save.includes(`${res.ip}/32`), false, 'no rule names the pod IP');
    assert.equal(readdirSync(join(stateDir, 'pods')).some((f) => f.startsWith(uid)), false, 'record dropped');
    const eth0 = await inNetns(h.path, ['ip', '-o', 'link']);
    assert.doesNotMatch(eth0.stdout, /eth0/);

    await net.teardown(uid, h.path, ports); // again: nothing left, no error
    await net.teardown(randomUUID(), undefined, []); // never set up
    // set up again in the same namespace after a teardown: works and gets a lease
    const back = await net.setup(uid, h.path, ports);
    assert.match(back.ip, /^10\.254\.231\.\d+$/);
    await net.teardown(uid, h.path, ports);
  });

  test('gc by a restarted worker removes a pod whose process was killed, keeps live pods (root)', async () => {
    const hostPort = await freePort();
    const live = await pod();
    const dead = await pod([{ containerPort: 80, hostPort, protocol: 'tcp' }]);
    await dead.h.kill();
    // the bridge plugin cannot undo masquerade without the namespace: the rules are still there
    assert.ok(tagged(await iptablesSave(), dead.uid).length > 0);

    const restarted = new CniNetwork({ stateDir, bridge: BRIDGE, subnet: SUBNET });
    await restarted.gc([live.uid]);
    assert.deepEqual(tagged(await iptablesSave(), dead.uid), []);
    assert.equal(existsSync(join(stateDir, 'ipam', NETWORK, dead.res.ip)), false, 'dead pod lease released');
    await until('dead pod veth gone', async () => !(await linkExists(dead.res.hostInterface)));
    // the live pod is untouched and still reachable
    assert.ok(existsSync(join(stateDir, 'ipam', NETWORK, live.res.ip)));
    await inNetns(live.h.path, ['/bin/busybox', 'ping', '-c', '1', '-W', '10', live.res.gateway]);
    assert.deepEqual(await restarted.setup(live.uid, live.h.path, []), live.res);
    await restarted.teardown(live.uid, live.h.path, []);
    assert.deepEqual(tagged(await iptablesSave(), live.uid), []);
  });

  test('check passes on a healthy pod and reports the CNI error once its veth is gone (root)', async () => {
    const { uid, res } = await pod([{ containerPort: 80, hostPort: await freePort(), protocol: 'tcp' }]);
    await net.check(uid);
    await run('ip', ['link', 'del', res.hostInterface]); // takes eth0 in the pod with it
    await assert.rejects(net.check(uid), (e: unknown) => e instanceof BurstletError && e.code === 'RUNTIME_FAILED' && /CNI plugin bridge CHECK failed/.test(e.message));
    await assert.rejects(net.check(randomUUID()), (e: unknown) => e instanceof BurstletError && e.code === 'NOT_FOUND');
    await net.teardown(uid, undefined, []);
    assert.deepEqual(tagged(await iptablesSave(), uid), []);
  });

  test('teardown after the pod\'s process died still removes the masquerade rules, lease and record (root)', async () => {
    const { h, uid, res } = await pod();
    await h.kill();
    await net.teardown(uid, h.path, []);
    assert.deepEqual(tagged(await iptablesSave(), uid), []);
    assert.equal(existsSync(join(stateDir, 'ipam', NETWORK, res.ip)), false);
    assert.equal(existsSync(join(stateDir, 'pods', `${uid}.json`)), false);
    await until('veth gone with the namespace', async () => !(await linkExists(res.hostInterface)));
  });

  test('teardown never touches a namespace that is not the pod\'s any more (pid reused) (root)', async () => {
    const a = await pod();
    const b = await pod();
    const recFile = join(stateDir, 'pods', `${a.uid}.json`);
    const rec = JSON.parse(readFileSync(recFile, 'utf8')) as { netnsPath: string };
    rec.netnsPath = b.h.path; // as if a's pause pid now belonged to b's process
    writeFileSync(recFile, JSON.stringify(rec));
    await a.h.kill();
    await net.teardown(a.uid, b.h.path, []);
    assert.match((await inNetns(b.h.path, ['ip', '-o', 'link'])).stdout, /eth0/);
    await inNetns(b.h.path, ['/bin/busybox', 'ping', '-c', '1', '-W', '10', b.res.gateway]);
    assert.equal(existsSync(join(stateDir, 'ipam', NETWORK, a.res.ip)), false);
  });

  test('with the firewall plugin: FORWARD accept rules for the pod while it lives, gone after teardown (root)', async () => {
    const fw = new CniNetwork({ stateDir, bridge: BRIDGE, subnet: SUBNET, firewall: true });
    const h = await holdNetns();
    holders.push(h);
    const uid = randomUUID();
    uids.push(uid);
    const res = await fw.setup(uid, h.path, []);
    const rules = (await run('iptables', ['-S', 'CNI-FORWARD'])).stdout;
    assert.match(rules, new RegExp(`-s ${res.ip.replaceAll('.', '\\.')}/32 -j ACCEPT`));
    await inNetns(h.path, ['/bin/busybox', 'ping', '-c', '1', '-W', '10', res.gateway]);
    await fw.teardown(uid, h.path, []);
    assert.equal((await iptablesSave()).includes(`${res.ip}/32`), false);
  });

  test('gc releases a lease and rules without a record (worker killed mid-setup) (root)', async () => {
    const fw = new CniNetwork({ stateDir, bridge: BRIDGE, subnet: SUBNET, firewall: true });
    const h = await holdNetns();
    holders.push(h);
    const uid = randomUUID();
    uids.push(uid);
    const res = await fw.setup(uid, h.path, [{ containerPort: 80, hostPort: await freePort(), protocol: 'tcp' }]);
    assert.ok((await iptablesSave()).includes(`${res.ip}/32`));
    rmSync(join(stateDir, 'pods', `${uid}.json`)); // as if the record were never completed
    await net.gc([]);
    assert.equal(existsSync(join(stateDir, 'ipam', NETWORK, res.ip)), false);
    const save = await iptablesSave();
    assert.deepEqual(tagged(save, uid), []);
    assert.equal(save.includes(`${res.ip}/32`), false, 'firewall rules (untagged) removed too');
  });

  test('pods set up and torn down in parallel get distinct IPs and leave nothing (root)', async () => {
    const hs = await Promise.all([0, 1, 2, 3].map(() => holdNetns()));
    holders.push(...hs);
    const ids = hs.map(() => randomUUID());
    uids.push(...ids);
    const ports = await Promise.all(hs.map(() => freePort()));
    const rs = await Promise.all(hs.map((h, i) => net.setup(ids[i], h.path, [{ containerPort: 80, hostPort: ports[i], protocol: 'tcp' }])));
    assert.equal(new Set(rs.map((r) => r.ip)).size, 4);
    await inNetns(hs[0].path, ['/bin/busybox', 'ping', '-c', '1', '-W', '10', rs[3].ip]);
    await Promise.all(hs.map((h, i) => net.teardown(ids[i], h.path, [])));
    const save = await iptablesSave();
    for (const [i, r] of rs.entries()) {
      assert.deepEqual(tagged(save, ids[i]), []);
      assert.equal(save.includes(`${r.ip}/32`), false);
      assert.equal(await linkExists(r.hostInterface), false);
      assert.equal(existsSync(join(stateDir, 'ipam', NETWORK, r.ip)), false);
    }
  });

  test('setup on a namespace that does not exist fails with RUNTIME_FAILED and leaves nothing (root)', async () => {
    const uid = randomUUID();
    await assert.rejects(net.setup(uid, '/proc/999999999/ns/net', []), (e: unknown) => e instanceof BurstletError && e.code === 'RUNTIME_FAILED' && /does not exist/.test(e.message));
    assert.equal(existsSync(join(stateDir, 'pods', `${uid}.json`)), false);
  });

  test('a plugin failure carries the CNI error and nothing is left behind (root)', async () => {
    const h = await holdNetns();
    holders.push(h);
    const bad = new CniNetwork({ stateDir, bridge: BRIDGE, subnet: '10.254.231.0/33' });
    const uid = randomUUID();
    await assert.rejects(bad.setup(uid, h.path, []), (e: unknown) => e instanceof BurstletError && /CNI error code \d+: /.test(e.message) && e.code === 'RUNTIME_FAILED');
    assert.equal(existsSync(join(stateDir, 'pods', `${uid}.json`)), false);
    assert.deepEqual(tagged(await iptablesSave(), uid), []);
  });
});
