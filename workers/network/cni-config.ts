/**
 * The pod network's CNI configuration: a conflist chain bridge → portmap → firewall, and
 * the per-plugin configuration libcni derives from it (name, cniVersion, prevResult and the
 * runtimeConfig of the capabilities a plugin declares). Pure data; nothing runs here.
 */
import { BurstletError } from '../../src/errors.ts';

/** A hostPort mapping of one pod container port (Kubernetes `ports[].hostPort`). */
export interface PortMapping {
  containerPort: number;
  hostPort: number;
  protocol: 'tcp' | 'udp' | 'sctp';
  /** Host address to bind; empty or absent means every address. */
  hostIP?: string;
}

/** One plugin entry of a conflist (`type` plus plugin-specific keys). */
export interface CniPluginConf {
  type: string;
  capabilities?: Record<string, boolean>;
  [key: string]: unknown;
}

/** A CNI network configuration list (the `.conflist` format). */
export interface CniConfList {
  cniVersion: string;
  name: string;
  plugins: CniPluginConf[];
}

/** What the bridge network is made of. */
export interface BridgeNetworkOptions {
  cniVersion: string;
  /** Network name: names the host-local lease directory and the iptables comments. */
  name: string;
  bridge: string;
  subnet: string;
  /** host-local's lease directory. */
  ipamDataDir: string;
  mtu: number;
  /** Include portmap (only pods with hostPorts need it: each plugin run costs iptables calls). */
  portmap: boolean;
  /** Include firewall (only where the host's FORWARD policy is not ACCEPT). */
  firewall: boolean;
}

/**
 * The chain: bridge (gateway, masquerade, hairpin, host-local IPAM) → portmap → firewall,
 * the last two only when asked. A pod's chain is recorded with it, so DEL runs the same one.
 */
export function bridgeConfList(o: BridgeNetworkOptions): CniConfList {
  const plugins: CniPluginConf[] = [
    {
      type: 'bridge',
      bridge: o.bridge,
      isGateway: true,
      ipMasq: true,
      hairpinMode: true,
      mtu: o.mtu,
      ipam: { type: 'host-local', ranges: [[{ subnet: o.subnet }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: o.ipamDataDir },
    },
  ];
  // snat: connections to a hostPort from the host itself (127.0.0.1) and hairpin ones are
  // masqueraded; portmap then also sets route_localnet on the bridge so 127/8 may cross it.
  if (o.portmap) plugins.push({ type: 'portmap', capabilities: { portMappings: true }, snat: true });
  // accept rules for the pod's IP in FORWARD, where the policy is DROP (Docker, ufw)
  if (o.firewall) plugins.push({ type: 'firewall', backend: 'iptables' });
  return { cniVersion: o.cniVersion, name: o.name, plugins };
}

/** The separate one-plugin network that brings up `lo` in the pod (as CRI runtimes do). */
export function loopbackConf(cniVersion: string): CniConfList {
  return { cniVersion, name: 'cni-loopback', plugins: [{ type: 'loopback' }] };
}

/**
 * The configuration plugin `plugin` of `list` receives on stdin, built as libcni does:
 * name and cniVersion from the list, `prevResult` when given, and `runtimeConfig` holding
 * only the runtime values of capabilities the plugin declares.
 */
export function pluginConfig(list: CniConfList, plugin: CniPluginConf, prevResult: unknown, runtime: Record<string, unknown>): Record<string, unknown> {
  const conf: Record<string, unknown> = { ...plugin, name: list.name, cniVersion: list.cniVersion };
  if (prevResult !== undefined) conf.prevResult = prevResult;
  const rc: Record<string, unknown> = {};
  for (const [cap, on] of Object.entries(plugin.capabilities ?? {})) if (on && runtime[cap] !== undefined) rc[cap] = runtime[cap];
  if (Object.keys(rc).length) conf.runtimeConfig = rc;
  return conf;
}

/** Validates mappings and keeps those with a host port (hostPort 0 publishes nothing). */
export function portMappingsFor(ports: PortMapping[]): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const p of ports) {
    if (!p.hostPort) continue;
    const bad = (n: number) => !Number.isInteger(n) || n < 1 || n > 65535;
    if (bad(p.hostPort) || bad(p.containerPort) || !['tcp', 'udp', 'sctp'].includes(p.protocol)) {
      throw new BurstletError('INVALID_INPUT', `invalid port mapping ${p.hostPort}→${p.containerPort}/${p.protocol}`);
    }
    out.push({ hostPort: p.hostPort, containerPort: p.containerPort, protocol: p.protocol, ...(p.hostIP ? { hostIP: p.hostIP } : {}) });
  }
  return out;
}

/** The highest of `preferred` (best first) that every plugin supports. */
export function negotiateVersion(preferred: string[], supported: string[][]): string | undefined {
  return preferred.find((v) => supported.every((s) => s.includes(v)));
}
