// What a stopped burstlet must not leave behind: processes, mounts, cgroups.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Every descendant pid of `root` (read from /proc). */
export async function descendants(root: number): Promise<number[]> {
  const parents = new Map<number, number>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(Number(entry), ppid);
    } catch {
      // the process ended while we looked
    }
  }
  const out: number[] = [];
  const walk = (pid: number) => {
    for (const [child, parent] of parents) if (parent === pid) out.push(child), walk(child);
  };
  walk(root);
  return out;
}

export async function alive(pids: number[]): Promise<number[]> {
  const out: number[] = [];
  for (const pid of pids) {
    try {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      if (!/\) Z /.test(stat)) out.push(pid);
    } catch {
      // gone
    }
  }
  return out;
}

/** Mount points whose path contains `needle`. */
export async function mountsUnder(needle: string): Promise<string[]> {
  return (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').map((l) => l.split(' ')[4] ?? '').filter((p) => p.includes(needle));
}

/** cgroup directories (v1 controllers and the unified hierarchy) whose name contains one of `needles`. */
export async function cgroupsMatching(needles: string[]): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string, depth: number) => {
    if (depth > 5) return;
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const path = join(dir, e.name);
      if (needles.some((n) => e.name.includes(n))) found.push(path);
      await walk(path, depth + 1);
    }
  };
  await walk('/sys/fs/cgroup', 0);
  return found;
}
