/**
 * CPU and memory usage of a cgroup, read the way cAdvisor does for the kubelet's summary:
 * cumulative CPU time, memory usage, working set (usage minus inactive file pages) and RSS,
 * on cgroup v1/hybrid (cpuacct, memory controllers) and v2 (unified) hosts.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

export interface CgroupUsage {
  cpuNs?: number;
  memoryBytes?: number;
  workingSetBytes?: number;
  rssBytes?: number;
}

const CGROUP = '/sys/fs/cgroup';
const num = (s: string | undefined) => (s === undefined || s.trim() === '' || s.trim() === 'max' ? undefined : Number(s.trim()));
const read = (p: string) => readFile(p, 'utf8').catch(() => undefined);
const field = (text: string | undefined, name: string) => num(new RegExp(`^${name} (\\d+)$`, 'm').exec(text ?? '')?.[1]);

/** Usage of cgroup `path` (as in linux.cgroupsPath); fields are absent when unreadable. */
export async function cgroupUsage(path: string): Promise<CgroupUsage> {
  const v1 = await stat(join(CGROUP, 'memory')).then(() => true, () => false);
  if (v1) {
    const memStat = await read(join(CGROUP, 'memory', path, 'memory.stat'));
    const usage = num(await read(join(CGROUP, 'memory', path, 'memory.usage_in_bytes')));
    const inactive = field(memStat, 'total_inactive_file') ?? 0;
    return {
      cpuNs: num(await read(join(CGROUP, 'cpuacct', path, 'cpuacct.usage'))),
      memoryBytes: usage,
      workingSetBytes: usage === undefined ? undefined : Math.max(0, usage - inactive),
      rssBytes: field(memStat, 'total_rss'),
    };
  }
  const memStat = await read(join(CGROUP, path, 'memory.stat'));
  const usage = num(await read(join(CGROUP, path, 'memory.current')));
  const usec = field(await read(join(CGROUP, path, 'cpu.stat')), 'usage_usec');
  return {
    cpuNs: usec === undefined ? undefined : usec * 1000,
    memoryBytes: usage,
    workingSetBytes: usage === undefined ? undefined : Math.max(0, usage - (field(memStat, 'inactive_file') ?? 0)),
    rssBytes: field(memStat, 'anon'),
  };
}
