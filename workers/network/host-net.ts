/**
 * Small facts about the host's network that the pod network depends on: IPv4 forwarding,
 * the uplink MTU and the identity of a network namespace file.
 */
import { execFile } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Turns on net.ipv4.ip_forward (pods reach other networks only through a forwarding host). */
export async function enableIpForward(): Promise<void> {
  const path = '/proc/sys/net/ipv4/ip_forward';
  if ((await readFile(path, 'utf8').catch(() => '')).trim() === '1') return;
  await writeFile(path, '1\n');
}

/** Interface of the IPv4 default route, from /proc/net/route (destination 00000000). */
export function defaultRouteInterface(procNetRoute: string): string | undefined {
  for (const line of procNetRoute.split('\n').slice(1)) {
    const [iface, dest, , , , , , mask] = line.trim().split(/\s+/);
    if (dest === '00000000' && mask === '00000000') return iface;
  }
  return undefined;
}

/**
 * The MTU pods should use: the default route's interface MTU, so traffic leaving the host
 * is not fragmented or black-holed where the uplink is smaller than 1500 (tunnels, clouds).
 */
export async function uplinkMtu(fallback = 1500): Promise<number> {
  const iface = defaultRouteInterface(await readFile('/proc/net/route', 'utf8').catch(() => ''));
  if (!iface) return fallback;
  const mtu = Number((await readFile(`/sys/class/net/${iface}/mtu`, 'utf8').catch(() => '')).trim());
  return Number.isInteger(mtu) && mtu >= 576 ? mtu : fallback;
}

/** `dev:ino` of a namespace file, or undefined when it no longer exists. */
export async function netnsId(path: string): Promise<string | undefined> {
  const st = await stat(path).catch(() => undefined);
  return st ? `${st.dev}:${st.ino}` : undefined;
}

/**
 * Whether forwarded packets pass the host's filter FORWARD chain by default (policy ACCEPT).
 * When iptables cannot tell, assume yes: the bridge plugin's own iptables use fails louder.
 */
export async function forwardPolicyAccepts(): Promise<boolean> {
  const out = await run('iptables', ['-S', 'FORWARD']).then((r) => r.stdout, () => '');
  return out === '' || out.split('\n').includes('-P FORWARD ACCEPT');
}
