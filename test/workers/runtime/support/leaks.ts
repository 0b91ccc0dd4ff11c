// Checks that a pod left nothing behind on the host: mounts, cgroups, executor state, dirs.
import { readFile, stat } from 'node:fs/promises';
import { podCgroupExists } from '../../../../workers/runtime/cgroups.ts';
import type { Executor } from '../../../../workers/executor/executor.ts';

/** Names of anything the pod still holds; empty when clean. */
export async function podLeftovers(uid: string, podDir: string, executor: Executor): Promise<string[]> {
  const out: string[] = [];
  const mounts = (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').filter((l) => l.includes(podDir) || l.includes(uid));
  if (mounts.length) out.push(`mounts: ${mounts.join('; ')}`);
  if (await podCgroupExists(uid)) out.push('cgroup');
  const ids = (await executor.list()).filter((id) => id.startsWith(uid));
  if (ids.length) out.push(`containers: ${ids.join(',')}`);
  if (await stat(podDir).then(() => true, () => false)) out.push(`dir ${podDir}`);
  return out;
}
