/**
 * The files the kubelet manages for a pod: /etc/hosts (with hostAliases), /etc/resolv.conf
 * (host's, merged with dnsConfig; only dnsConfig under dnsPolicy None) and /etc/hostname.
 * Pure text builders; the sandbox writes them once and bind-mounts them into each container.
 */
import type { PodJob } from '../../src/schema/pod-job.ts';

const HOSTS_HEADER = '# Kubernetes-managed hosts file.\n';
const LOCAL_HOSTS = [
  '127.0.0.1\tlocalhost',
  '::1\tlocalhost ip6-localhost ip6-loopback',
  'fe00::0\tip6-localnet',
  'fe00::0\tip6-mcastprefix',
  'fe00::1\tip6-allnodes',
  'fe00::2\tip6-allrouters',
];
export const CLUSTER_DOMAIN = 'cluster.local';

/** /etc/hosts as the kubelet writes it (managedHostsFileContent). */
export function hostsFile(job: Pick<PodJob, 'name' | 'namespace' | 'hostname' | 'subdomain' | 'hostAliases'>, podIP: string | undefined, hostname: string): string {
  const lines = [...LOCAL_HOSTS];
  if (podIP) {
    lines.push(job.subdomain
      ? `${podIP}\t${hostname}.${job.subdomain}.${job.namespace}.svc.${CLUSTER_DOMAIN}\t${hostname}`
      : `${podIP}\t${hostname}`);
  }
  let out = HOSTS_HEADER + lines.join('\n') + '\n';
  if (job.hostAliases?.length) {
    out += '\n# Entries added by HostAliases.\n';
    for (const a of job.hostAliases) out += `${a.ip}\t${(a.hostnames ?? []).join('\t')}\n`;
  }
  return out;
}

interface Resolv { nameservers: string[]; searches: string[]; options: Map<string, string | undefined> }

/** Parses resolv.conf text (nameserver, search/domain, options). */
export function parseResolvConf(text: string): Resolv {
  const out: Resolv = { nameservers: [], searches: [], options: new Map() };
  for (const raw of text.split('\n')) {
    const f = raw.replace(/[#;].*/, '').trim().split(/\s+/);
    if (f[0] === 'nameserver' && f[1]) out.nameservers.push(f[1]);
    else if (f[0] === 'search' || f[0] === 'domain') out.searches = f.slice(1);
    else if (f[0] === 'options') {
      for (const o of f.slice(1)) {
        const [k, v] = o.split(':', 2) as [string, string | undefined];
        out.options.set(k, v);
      }
    }
  }
  return out;
}

const unique = (xs: string[]) => [...new Set(xs)];

/** resolv.conf for the pod (kubelet appendDNSConfig: servers/searches appended, options by name). */
export function resolvConf(job: Pick<PodJob, 'dnsPolicy' | 'dnsConfig'>, hostResolv: string): string {
  const base = job.dnsPolicy === 'None' ? parseResolvConf('') : parseResolvConf(hostResolv);
  const cfg = job.dnsConfig ?? {};
  const nameservers = unique([...base.nameservers, ...(cfg.nameservers ?? [])]).slice(0, 3);
  const searches = unique([...base.searches, ...(cfg.searches ?? [])]).slice(0, 32);
  for (const o of cfg.options ?? []) base.options.set(o.name, o.value);
  let out = nameservers.map((n) => `nameserver ${n}\n`).join('');
  if (searches.length) out += `search ${searches.join(' ')}\n`;
  if (base.options.size) out += `options ${[...base.options].map(([k, v]) => (v === undefined ? k : `${k}:${v}`)).join(' ')}\n`;
  return out;
}
