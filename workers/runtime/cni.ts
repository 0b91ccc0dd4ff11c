/**
 * Pod networking through the standard CNI plugins (Debian containernetworking-plugins):
 * bridge (veth into a Linux bridge, the bridge as gateway, egress masquerade) with
 * host-local IPAM, then portmap for hostPorts. ADD returns the pod's IP; DEL undoes the
 * veth, the IPAM lease, the masquerade and port-mapping rules, and is safe to repeat.
 */
import { execFile } from 'node:child_process';
import { BurstletError } from '../../src/errors.ts';
import type { PodJob } from '../../src/schema/pod-job.ts';

/** The worker's bridge network (plain data, from settings). */
export interface BridgeNetwork {
  /** Linux bridge device name (≤ 15 characters). */
  bridge: string;
  /** Pod subnet in CIDR notation, e.g. 10.88.0.0/16. */
  subnet: string;
  /** host-local IPAM's lease directory. */
  ipamDir: string;
  /** CNI network name (also the IPAM lease namespace). */
  name?: string;
  pluginDir?: string;
}

interface PortMapping { hostPort: number; containerPort: number; protocol: string; hostIP?: string }

const CNI_VERSION = '1.0.0';

function bridgeConfig(n: BridgeNetwork): Record<string, unknown> {
  return {
    cniVersion: CNI_VERSION, name: n.name ?? 'burstlet', type: 'bridge', bridge: n.bridge,
    isGateway: true, ipMasq: true, hairpinMode: true,
    ipam: { type: 'host-local', ranges: [[{ subnet: n.subnet }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: n.ipamDir },
  };
}

/** hostPorts of the pod's containers, as the portmap plugin wants them. */
export function portMappings(job: Pick<PodJob, 'containers'>): PortMapping[] {
  return job.containers.flatMap((c) => (c.ports ?? []).filter((p) => p.hostPort).map((p) => ({
    hostPort: p.hostPort!, containerPort: p.containerPort, protocol: (p.protocol ?? 'TCP').toLowerCase(), ...(p.hostIP ? { hostIP: p.hostIP } : {}),
  })));
}

function plugin(n: BridgeNetwork, type: string, command: 'ADD' | 'DEL', id: string, netns: string, config: object): Promise<string> {
  const dir = n.pluginDir ?? '/usr/lib/cni';
  const env = { ...process.env, CNI_COMMAND: command, CNI_CONTAINERID: id, CNI_NETNS: netns, CNI_IFNAME: 'eth0', CNI_PATH: dir };
  return new Promise((resolve, reject) => {
    const child = execFile(`${dir}/${type}`, [], { env, timeout: 60_000 }, (err, stdout) => {
      if (!err) return resolve(stdout);
      let msg = stdout || (err as Error).message;
      try {
        const e = JSON.parse(stdout) as { msg?: string; details?: string };
        msg = `${e.msg ?? ''}${e.details ? `: ${e.details}` : ''}`;
      } catch { /* not a CNI error object */ }
      reject(new BurstletError('RUNTIME_FAILED', `CNI ${type} ${command} for ${id}: ${msg}`, { cause: err }));
    });
    child.stdin?.end(JSON.stringify(config));
  });
}

/** Attaches the netns to the bridge network; returns the pod's IPv4 address. */
export async function cniAdd(n: BridgeNetwork, id: string, netns: string, ports: PortMapping[]): Promise<string> {
  const base = bridgeConfig(n);
  const result = JSON.parse(await plugin(n, 'bridge', 'ADD', id, netns, base)) as { ips?: { address: string }[] };
  const ip = result.ips?.find((x) => x.address.includes('.'))?.address.split('/')[0];
  if (!ip) throw new BurstletError('RUNTIME_FAILED', `CNI bridge ADD for ${id} returned no IPv4 address`);
  if (ports.length) {
    await plugin(n, 'portmap', 'ADD', id, netns, {
      cniVersion: CNI_VERSION, name: base.name, type: 'portmap', capabilities: { portMappings: true },
      runtimeConfig: { portMappings: ports }, prevResult: result,
    });
  }
  return ip;
}

/** Detaches (idempotent: plugins treat a missing attachment as done). */
export async function cniDel(n: BridgeNetwork, id: string, netns: string, ports: PortMapping[]): Promise<void> {
  const base = bridgeConfig(n);
  if (ports.length) {
    await plugin(n, 'portmap', 'DEL', id, netns, { cniVersion: CNI_VERSION, name: base.name, type: 'portmap', capabilities: { portMappings: true }, runtimeConfig: { portMappings: ports } });
  }
  await plugin(n, 'bridge', 'DEL', id, netns, base);
}
