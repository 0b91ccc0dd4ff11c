/**
 * Removes a pod's iptables rules that the plugins' own DEL leaves behind. The bridge
 * plugin (containernetworking-plugins 1.1.1) only undoes its ipMasq rules when it can still
 * enter the pod's network namespace, so a pod whose pause process died first (worker crash,
 * kill -9) would leak its POSTROUTING rule and CNI-<hash> chain forever. The plugins tag
 * every per-pod rule with the comment `name: "<network>" id: "<containerId>"` (portmap:
 * `dnat name: ...`), which is what is matched here.
 */
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A per-pod chain the plugins create (hash-named), as opposed to shared CNI-HOSTPORT-* ones. */
const POD_CHAIN = /^CNI-(?:DN-)?[0-9a-f]{12,}$/;

/** The comment text as iptables-save prints it (quotes escaped). */
function savedComment(network: string, containerId: string): string {
  return `name: \\"${network}\\" id: \\"${containerId}\\"`;
}

/**
 * An iptables-restore --noflush script deleting every rule tagged for (network,
 * containerId) in `saveText` (iptables-save output) and the per-pod chains they jump to;
 * undefined when nothing is left.
 */
export function leftoverScript(saveText: string, network: string, containerId: string): string | undefined {
  const tag = savedComment(network, containerId);
  const out: string[] = [];
  let table = '';
  let dels: string[] = [];
  let chains = new Set<string>();
  const flushTable = () => {
    if (!dels.length && !chains.size) return;
    out.push(`*${table}`, ...dels, ...[...chains].map((c) => `-F ${c}`), ...[...chains].map((c) => `-X ${c}`), 'COMMIT');
  };
  const existing = new Set<string>();
  for (const line of saveText.split('\n')) {
    if (line.startsWith('*')) {
      table = line.slice(1).trim();
      dels = [];
      chains = new Set();
      existing.clear();
    } else if (line.startsWith(':')) {
      existing.add(line.slice(1).split(' ')[0]);
    } else if (line === 'COMMIT') {
      flushTable();
    } else if (line.startsWith('-A ') && line.includes(tag)) {
      const chain = line.split(' ')[1];
      const target = / -j (\S+)/.exec(line)?.[1];
      if (target && POD_CHAIN.test(target) && existing.has(target)) chains.add(target);
      if (!POD_CHAIN.test(chain)) dels.push(`-D ${line.slice(3)}`);
      else chains.add(chain);
    }
  }
  return out.length ? `${out.join('\n')}\n` : undefined;
}

/** Container ids that own rules tagged with `network` in `saveText` (for gc). */
export function ruleOwners(saveText: string, network: string): Set<string> {
  const owners = new Set<string>();
  const re = new RegExp(`name: \\\\"${network.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\\\" id: \\\\"([^\\\\"]+)\\\\"`, 'g');
  for (const m of saveText.matchAll(re)) owners.add(m[1]);
  return owners;
}

/** Current rules of every table (empty when iptables is unusable here). */
export async function iptablesSave(): Promise<string> {
  return (await run('iptables-save', [], { maxBuffer: 64 << 20 }).catch(() => ({ stdout: '' }))).stdout;
}

/**
 * Deletes what is left of (network, containerId). Idempotent. Retries on a race with
 * another writer (a rule vanishing between save and restore fails the whole transaction).
 */
export async function removeLeftoverRules(network: string, containerId: string): Promise<void> {
  let lastErr: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const script = leftoverScript(await iptablesSave(), network, containerId);
    if (!script) return;
    try {
      await restore(script);
      return;
    } catch (err) {
      lastErr = err;
    }
  }
  throw lastErr;
}

/** Applies `script` with iptables-restore --noflush (one transaction per table). */
function restore(script: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('iptables-restore', ['--noflush'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`iptables-restore failed (${code}): ${stderr.trim()}`))));
    child.stdin.end(script);
  });
}
