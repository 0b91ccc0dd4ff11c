/**
 * The pod's cgroup parent: containers live at `/burstlet/<pod uid>/<container>` so a pod's
 * containers share a parent (as under the kubelet's pod cgroups); a pod without a pause
 * process has one container, whose cgroup is `/burstlet/<pod uid>` itself. Runtimes remove
 * only the leaf they created; this removes the pod level in every mounted hierarchy (v1, v2,
 * hybrid).
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { loadNativeLib } from '../executor/native-lib.ts';

export const CGROUP_ROOT_NAME = 'burstlet';

export const podCgroup = (uid: string) => `/${CGROUP_ROOT_NAME}/${uid}`;
export const containerCgroup = (uid: string, name: string) => `${podCgroup(uid)}/${name}`;

/**
 * The cgroup of attempt `attempt` of container `name` in the pod of `sandbox`. A pod without
 * a pause process has exactly one container, run once (sandbox.ts needsPause): its cgroup is
 * the pod's own, with the same process and limits a pod level above it would hold, and one
 * cgroup per hierarchy fewer to make and remove for every such pod.
 */
export function containerCgroupIn(sandbox: { uid: string; pauseId: string }, name: string, attempt: number): string {
  return sandbox.pauseId === '' ? podCgroup(sandbox.uid) : containerCgroup(sandbox.uid, `${name}-${attempt}`);
}

let mounts: Promise<string[]> | undefined;

/** Mount points of cgroup (v1) and cgroup2 hierarchies (read once per process: they do not move). */
export function cgroupMounts(): Promise<string[]> {
  mounts ??= readFile('/proc/self/mountinfo', 'utf8').then((info) => info.split('\n').filter((l) => / - cgroup2? /.test(l)).map((l) => l.split(' ')[4]));
  return mounts;
}

/**
 * Removes the pod's cgroup directories everywhere; call after its processes are gone. A task
 * that was just killed keeps its cgroup busy until it is fully released, so a removal that
 * left something is retried after 10 ms, doubling, for about a second (as runc retries its
 * cgroup rmdirs); what is left after that stays (the leak checks will name it).
 */
export async function removePodCgroups(uid: string): Promise<void> {
  let dirs = (await cgroupMounts()).map((mp) => join(mp, podCgroup(uid)));
  // One synchronous native call per hierarchy (rmdirTree): rmdir first, so an empty cgroup
  // (the usual case once the runtime removed its leaves) goes in one syscall and only one with
  // children is listed. cgroupfs never waits on a disk, a pool round trip per hierarchy cost
  // more than the calls, and rmdirSync threw an Error for every hierarchy the pod never used.
  const lib = loadNativeLib();
  for (let delay = 10; ; delay *= 2) {
    dirs = dirs.filter((dir) => !lib.rmdirTree(dir));
    if (dirs.length === 0 || delay > 640) return;
    await new Promise((r) => setTimeout(r, delay));
  }
}

/** True when any hierarchy still has the pod's cgroup (tests check for leaks). */
export async function podCgroupExists(uid: string): Promise<boolean> {
  for (const mp of await cgroupMounts()) {
    if (await readdir(join(mp, podCgroup(uid))).then(() => true, () => false)) return true;
  }
  return false;
}
