/**
 * Pod networking in `bridge` mode through the standard CNI plugins (Debian
 * containernetworking-plugins: bridge, host-local, portmap, firewall, loopback).
 *
 * Defaults: bridge `burstlet0`, subnet 10.88.0.0/16 (the bridge holds .1, the pod's
 * gateway), network name `burstlet-<bridge>`, plugins from /usr/lib/cni then /opt/cni/bin,
 * MTU of the host's default-route interface, the highest CNI version every plugin supports
 * (1.0.0 with 1.1.1 plugins). The chain is bridge (isGateway, ipMasq for egress NAT,
 * hairpinMode, host-local IPAM leasing under `<stateDir>/ipam`) → portmap, only for pods
 * with hostPorts (snat, so 127.0.0.1:hostPort works too: portmap sets route_localnet on the
 * bridge and masquerades host-originated connections) → firewall, only where the host's
 * FORWARD policy is not ACCEPT (Docker, ufw) or when asked. Every plugin run costs several
 * iptables calls, hence the trimming; each pod's chain is recorded so DEL runs the same
 * one. `lo` comes up through the loopback plugin. ip_forward is switched on at the first
 * setup. IPv4 only. Note: route_localnet on the bridge means the host accepts 127/8
 * destinations arriving from pods (the kube-proxy CVE-2020-8558 class); a worker that
 * must not expose loopback-only services to pods should firewall that (or avoid hostPorts).
 * 10.88.0.0/16 is also podman's default: set another subnet on hosts running podman.
 *
 * Worker restart: every pod's configuration, CNI_CONTAINERID, namespace identity and ADD
 * result live in `<stateDir>/pods/<podUid>.json` (written before ADD, completed after), so
 * a restarted worker tears pods down exactly as they were set up, and `gc(live)` removes
 * veths, leases and iptables rules of pods that are gone. Rules the bridge plugin cannot
 * remove once the namespace is gone are removed by their CNI comment. One CniNetwork per
 * stateDir per host: calls for the same pod are serialised in-process only.
 *
 * How the sandbox uses it: `setup(uid, /proc/<pausePid>/ns/net, hostPorts)` after the pause
 * process exists (the result's `ip` is the podIP, written to /etc/hosts); `teardown(uid,
 * the same path, the same ports)` BEFORE the pause process is killed (while the namespace
 * still exists the plugins undo everything themselves); `gc(uids of pods it still runs)`
 * once at worker start, after re-adopting running pods.
 */
import { join } from 'node:path';
import { BurstletError, wrapError } from '../../src/errors.ts';
import type { Logger } from '../../src/log.ts';
import { addChain, checkChain, delChain, type ChainTarget } from './cni-chain.ts';
import { bridgeConfList, loopbackConf, negotiateVersion, portMappingsFor, type CniConfList, type PortMapping } from './cni-config.ts';
import { pluginVersions } from './cni-plugin.ts';
import { podNetworkResult, type PodNetworkResult } from './cni-result.ts';
import { NetworkStateStore, validContainerId, type PodNetworkRecord } from './cni-state.ts';
import { enableIpForward, forwardPolicyAccepts, netnsId, uplinkMtu } from './host-net.ts';
import { iptablesSave, removeLeftoverRules, ruleOwners } from './iptables-leftovers.ts';
import { leaseOwners } from './ipam-leases.ts';

export type { PortMapping } from './cni-config.ts';
export type { PodNetworkResult } from './cni-result.ts';

/** How the bridge network is set up; see the file comment for the defaults. */
export interface CniNetworkOptions {
  stateDir: string;
  bridge?: string;
  subnet?: string;
  /** Plugin directories, colon-separated like CNI_PATH. */
  cniPath?: string;
  mtu?: number;
  /** Add the firewall plugin: true, false, or undefined = when the FORWARD policy is not ACCEPT. */
  firewall?: boolean;
  log?: Logger;
}

const IFNAME = 'eth0';
const PREFERRED_VERSIONS = ['1.0.0', '0.4.0'];
const CHAIN_PLUGINS = ['bridge', 'host-local', 'portmap', 'firewall', 'loopback'];

/** Bridge-mode pod networking; every method is safe to call again after a failure or restart. */
export class CniNetwork {
  readonly bridge: string;
  readonly subnet: string;
  readonly networkName: string;
  readonly ipamDir: string;
  private readonly cniPath: string[];
  private readonly mtu: number | undefined;
  private readonly firewall: boolean | undefined;
  private readonly log: Logger | undefined;
  private readonly store: NetworkStateStore;
  private readonly locks = new Map<string, Promise<void>>();
  private base: Promise<{ version: string; mtu: number }> | undefined;

  constructor(opts: CniNetworkOptions) {
    this.bridge = opts.bridge ?? 'burstlet0';
    this.subnet = opts.subnet ?? '10.88.0.0/16';
    this.networkName = `burstlet-${this.bridge}`;
    this.ipamDir = join(opts.stateDir, 'ipam');
    this.cniPath = (opts.cniPath ?? '/usr/lib/cni:/opt/cni/bin').split(':').filter(Boolean);
    this.mtu = opts.mtu;
    this.firewall = opts.firewall;
    this.log = opts.log;
    this.store = new NetworkStateStore(opts.stateDir);
  }

  /**
   * Connects the namespace at `netnsPath` to the bridge and publishes `ports` (those with a
   * hostPort). Idempotent per podUid: while the same namespace lives, a second call returns
   * the first result; a record left for another (dead) namespace is torn down first. On
   * failure nothing is left behind and the plugin's CNI error is in the message.
   */
  setup(podUid: string, netnsPath: string, ports: PortMapping[]): Promise<PodNetworkResult> {
    return this.serial(podUid, () => this.doSetup(podUid, netnsPath, ports));
  }

  /**
   * Removes the pod's veth, IPAM lease and portmap/masquerade/firewall rules. Idempotent;
   * never throws for state that is already gone (no record, dead namespace). `netnsPath`
   * and `ports` may be omitted: the record of the setup is authoritative.
   */
  teardown(podUid: string, netnsPath: string | undefined, ports: PortMapping[]): Promise<void> {
    void ports; // DEL must see what ADD saw: the recorded mappings, not the caller's
    return this.serial(podUid, async () => {
      const rec = await this.store.get(podUid);
      if (rec) await this.undo(rec, netnsPath);
    });
  }

  /**
   * Asks the plugins whether the pod's network is still as set up (CNI CHECK: the
   * interface, its address and routes, masquerade and firewall rules; not portmap's). Rejects with the plugin's CNI error, or
   * NOT_FOUND when the pod has no completed setup or its namespace is gone. Read-only.
   */
  check(podUid: string): Promise<void> {
    return this.serial(podUid, async () => {
      const rec = await this.store.get(podUid);
      const netns = rec ? await this.liveNetns(rec, undefined) : '';
      if (!rec || rec.result === undefined || !netns) throw new BurstletError('NOT_FOUND', `pod ${podUid} has no live bridge network`);
      // portmap 1.1.1's CHECK also checks an IPv6 DNAT chain it never made for an IPv4-only
      // pod and always fails ("could not check ipv6 dnat"): its rules go unchecked
      const list = { ...rec.confList, plugins: rec.confList.plugins.filter((p) => p.type !== 'portmap') };
      await checkChain(list, this.target(rec, netns), rec.result).catch((err: unknown) => {
        throw wrapError(err, `pod network check for ${podUid}`, 'RUNTIME_FAILED');
      });
    });
  }

  /**
   * Removes leftovers of every pod not in `livePodUids`: recorded pods, IPAM leases and
   * tagged iptables rules without a record (a worker killed mid-setup). Best effort over all
   * pods; throws the first failure at the end.
   */
  async gc(livePodUids: string[]): Promise<void> {
    const live = new Set(livePodUids);
    const failures: unknown[] = [];
    const recorded = await this.store.list();
    for (const uid of recorded.filter((u) => !live.has(u))) {
      await this.teardown(uid, undefined, []).catch((err: unknown) => failures.push(err));
    }
    const known = new Set([...live, ...(await this.store.list())]);
    const leases = await leaseOwners(join(this.ipamDir, this.networkName));
    // under the pod's lock and only while it still has no record: a setup of a pod the
    // caller forgot to list, running right now, keeps its lease
    const orphan = (id: string, fn: () => Promise<void>) => this.serial(id, async () => {
      if (!(await this.store.get(id))) await fn();
    }).catch((err: unknown) => { failures.push(err); });
    for (const id of new Set(leases.values())) {
      if (!known.has(id)) await orphan(id, () => this.releaseLease(id));
    }
    for (const id of ruleOwners(await iptablesSave(), this.networkName)) {
      if (!known.has(id)) await orphan(id, () => removeLeftoverRules(this.networkName, id));
    }
    for (const f of failures) this.log?.warn({ err: f }, 'pod network gc');
    if (failures.length) throw wrapError(failures[0], `pod network gc (${failures.length} failures)`, 'RUNTIME_FAILED');
  }

  private async doSetup(podUid: string, netnsPath: string, ports: PortMapping[]): Promise<PodNetworkResult> {
    if (!validContainerId(podUid)) throw new BurstletError('INVALID_INPUT', `pod UID "${podUid}" is not a valid CNI container id`);
    const portMappings = portMappingsFor(ports);
    const old = await this.store.get(podUid);
    const nsId = await netnsId(netnsPath);
    if (old?.result !== undefined && old.netnsPath === netnsPath && old.netnsId === nsId) {
      return podNetworkResult(old.result, IFNAME, subnetOf(old.confList, this.subnet));
    }
    if (old) await this.undo(old, undefined); // another (dead) sandbox, or an ADD cut short
    if (!nsId) throw new BurstletError('RUNTIME_FAILED', `pod network setup: namespace ${netnsPath} does not exist`);
    const { version, mtu } = await this.baseSettings();
    const firewall = this.firewall ?? !(await forwardPolicyAccepts()); // asked per pod: Docker may have started since
    const confList = this.confList(version, mtu, portMappings.length > 0, firewall);
    const rec: PodNetworkRecord = { podUid, containerId: podUid, netnsPath, netnsId: nsId, confList, loopback: loopbackConf(version), portMappings };
    await this.store.put(rec);
    try {
      await addChain(rec.loopback, this.target(rec, netnsPath));
      rec.result = await addChain(confList, this.target(rec, netnsPath));
      const res = podNetworkResult(rec.result, IFNAME, this.subnet);
      await this.store.put(rec);
      this.log?.debug({ podUid, ip: res.ip, veth: res.hostInterface }, 'pod network up');
      return res;
    } catch (err) {
      await this.undo(rec, netnsPath).catch((e: unknown) => this.log?.warn({ err: e, podUid }, 'pod network: undo after failed setup'));
      throw wrapError(err, `pod network setup for ${podUid}`, 'RUNTIME_FAILED');
    }
  }

  /** DEL of everything `rec` set up, then the rules DEL cannot reach; drops the record on success. */
  private async undo(rec: PodNetworkRecord, netnsPath: string | undefined): Promise<void> {
    const netns = await this.liveNetns(rec, netnsPath);
    const cached = rec.result ?? (await this.resultFromLease(rec.confList, rec.containerId));
    const failures = await delChain(rec.confList, this.target(rec, netns), cached);
    if (netns) await delChain(rec.loopback, this.target(rec, netns), undefined); // lo dies with the namespace: result ignored
    // with no address known, DEL of prevResult-driven plugins (firewall) cannot succeed and
    // had nothing to undo: only failures of a setup that got an address count
    const real = cached === undefined ? [] : failures;
    for (const f of failures) this.log?.debug({ err: f, podUid: rec.podUid }, 'pod network DEL');
    if (real.length) throw wrapError(real[0], `pod network teardown for ${rec.podUid}`, 'RUNTIME_FAILED');
    await removeLeftoverRules(rec.confList.name, rec.containerId);
    await this.store.remove(rec.podUid);
  }

  /** The namespace path to hand to DEL: only one still naming the namespace of the setup. */
  private async liveNetns(rec: PodNetworkRecord, given: string | undefined): Promise<string> {
    for (const p of [given, rec.netnsPath]) {
      if (p && (await netnsId(p)) === rec.netnsId) return p;
    }
    return ''; // gone, or /proc/<pid> now names another process: never touch a stranger's netns
  }

  /**
   * Undoes a pod that has a lease but no record: the chain's DEL with a prevResult rebuilt
   * from the lease (firewall's rules carry no comment; only the pod's IP finds them).
   */
  private async releaseLease(containerId: string): Promise<void> {
    const { version, mtu } = await this.baseSettings();
    const list = this.confList(version, mtu, true, true); // which plugins ran is unknown: DEL of an unused one is a no-op
    const rec: PodNetworkRecord = { podUid: containerId, containerId, netnsPath: '', netnsId: '', confList: list, loopback: loopbackConf(version), portMappings: [] };
    const failures = await delChain(list, this.target(rec, ''), await this.resultFromLease(list, containerId));
    if (failures.length) throw wrapError(failures[0], `pod network gc of ${containerId}`, 'RUNTIME_FAILED');
    await removeLeftoverRules(this.networkName, containerId);
  }

  /** A minimal CNI result naming the address leased to `containerId` (for DEL's prevResult). */
  private async resultFromLease(list: CniConfList, containerId: string): Promise<unknown> {
    const subnet = subnetOf(list, this.subnet);
    const dataDir = (list.plugins[0]?.ipam as { dataDir?: string } | undefined)?.dataDir ?? this.ipamDir;
    const leases = await leaseOwners(join(dataDir, list.name));
    const ips = [...leases].filter(([, id]) => id === containerId).map(([ip]) => ({ address: `${ip}/${subnet.split('/')[1]}` }));
    return ips.length ? { cniVersion: list.cniVersion, interfaces: [], ips } : undefined;
  }

  private confList(cniVersion: string, mtu: number, portmap: boolean, firewall: boolean): CniConfList {
    return bridgeConfList({ cniVersion, name: this.networkName, bridge: this.bridge, subnet: this.subnet, ipamDataDir: this.ipamDir, mtu, portmap, firewall });
  }

  private target(rec: PodNetworkRecord, netns: string): ChainTarget {
    return { containerId: rec.containerId, netns, ifName: IFNAME, cniPath: this.cniPath, runtime: rec.portMappings.length ? { portMappings: rec.portMappings } : {} };
  }

  /** CNI version and MTU, settled once; also switches on IPv4 forwarding. */
  private baseSettings(): Promise<{ version: string; mtu: number }> {
    this.base ??= (async () => {
      const supported = await Promise.all(CHAIN_PLUGINS.map((p) => pluginVersions(p, this.cniPath)));
      const version = negotiateVersion(PREFERRED_VERSIONS, supported);
      if (!version) throw new BurstletError('CONFIG_INVALID', `CNI plugins in ${this.cniPath.join(':')} share no supported version (${PREFERRED_VERSIONS.join(', ')})`);
      await enableIpForward();
      return { version, mtu: this.mtu ?? (await uplinkMtu()) };
    })();
    this.base.catch(() => { this.base = undefined; }); // a fixed configuration may work next time
    return this.base;
  }

  /** Runs `fn` after every earlier call for `key` has settled. */
  private serial<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(key) ?? Promise.resolve();
    const next = prev.then(fn);
    const tail = next.then(() => {}, () => {});
    this.locks.set(key, tail);
    void tail.then(() => { if (this.locks.get(key) === tail) this.locks.delete(key); });
    return next;
  }
}

/** The subnet a recorded chain leases from (a record may predate a change of options). */
function subnetOf(list: CniConfList, fallback: string): string {
  const ipam = list.plugins[0]?.ipam as { ranges?: { subnet?: string }[][] } | undefined;
  return ipam?.ranges?.[0]?.[0]?.subnet ?? fallback;
}
