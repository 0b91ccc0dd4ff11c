/**
 * How many times the kernel OOM-killed inside a container's cgroup: memory.oom_control's
 * `oom_kill` on cgroup v1 (and hybrid) hosts, memory.events' `oom_kill` on v2.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

const CGROUP = '/sys/fs/cgroup';

/** undefined when the cgroup path is not a plain path or the cgroup is gone. */
export async function oomKillCount(cgroupsPath: string | undefined): Promise<number | undefined> {
  if (!cgroupsPath?.startsWith('/')) return undefined;
  const v1 = await stat(join(CGROUP, 'memory')).then(() => true, () => false);
  const file = v1 ? join(CGROUP, 'memory', cgroupsPath, 'memory.oom_control') : join(CGROUP, cgroupsPath, 'memory.events');
  const text = await readFile(file, 'utf8').catch(() => undefined);
  const m = text === undefined ? null : /^oom_kill (\d+)$/m.exec(text);
  return m ? Number(m[1]) : text === undefined ? undefined : 0;
}
