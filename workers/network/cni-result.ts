/**
 * Reads a CNI ADD result (spec 0.4.0/1.0.0 shape) into what the pod reports: its IPv4
 * address, gateway and interface names.
 */
import { BurstletError } from '../../src/errors.ts';

/** The pod's address on the bridge network. */
export interface PodNetworkResult {
  /** The pod's IPv4 address (podIP), without prefix. */
  ip: string;
  /** The bridge's address: the pod's default gateway. */
  gateway: string;
  /** The interface inside the pod (always `eth0`). */
  interface: string;
  /** The pod network's subnet, e.g. 10.88.0.0/16. */
  cidr: string;
  /** The host side of the pod's veth pair (gone once the pod is torn down). */
  hostInterface: string;
}

interface CniResultShape {
  interfaces?: { name?: string; sandbox?: string }[];
  ips?: { address?: string; gateway?: string; interface?: number; version?: string }[];
}

/** Picks the pod's IPv4 address and its interfaces out of `result`; throws when there is none. */
export function podNetworkResult(result: unknown, ifName: string, subnet: string): PodNetworkResult {
  const r = (result ?? {}) as CniResultShape;
  const ifaces = r.interfaces ?? [];
  const ipc = (r.ips ?? []).find((i) => i.address && !i.address.includes(':'));
  if (!ipc?.address) throw new BurstletError('RUNTIME_FAILED', `CNI result has no IPv4 address: ${JSON.stringify(result).slice(0, 300)}`);
  // the host veth is the interface without a sandbox that is not the bridge (listed first)
  const host = ifaces.find((i, n) => n > 0 && !i.sandbox && i.name !== ifName);
  return {
    ip: ipc.address.split('/')[0],
    gateway: ipc.gateway ?? '',
    interface: ifName,
    cidr: subnet,
    hostInterface: host?.name ?? '',
  };
}
