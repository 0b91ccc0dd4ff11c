/**
 * Teardown for the benches that run real pods: cleanup steps run in reverse order once,
 * on normal exit, on error and on Ctrl-C/SIGTERM (a second signal exits at once), and a
 * host sweep that removes whatever a killed worker left under its state directory
 * (runtime monitors and containers, mounts, the pods' cgroups).
 */
import { execFile } from 'node:child_process';
import { readdir, readFile, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CGROUP_ROOT_NAME, cgroupMounts } from '../../workers/runtime/cgroups.ts';
import { burstletRuntimePath } from '../../workers/executor/native-runtime.ts';

const run = promisify(execFile);
type Step = [name: string, fn: () => Promise<unknown> | unknown];
const steps: Step[] = [];
let running: Promise<void> | undefined;

/** Registers a cleanup step; steps run last-registered first. */
export function onCleanup(name: string, fn: Step[1]): void {
  steps.push([name, fn]);
}

/** Runs every registered step once (errors are printed, never thrown). Idempotent. */
export function cleanup(): Promise<void> {
  running ??= (async () => {
    for (const [name, fn] of steps.splice(0).reverse()) {
      try {
        await fn();
      } catch (err) {
        console.error(`cleanup: ${name} failed:`, err);
      }
    }
  })();
  return running;
}

let signalled = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (signalled) process.exit(130);
    signalled = true;
    console.error(`${sig}: cleaning up (again to exit at once)`);
    void cleanup().finally(() => process.exit(130));
  });
}

/** Runs `main`, then the cleanup steps whatever happened; on error prints it, sets the exit code. */
export async function withCleanup<T>(main: () => Promise<T>): Promise<T | undefined> {
  try {
    return await main();
  } catch (err) {
    console.error(err);
    process.exitCode = 1;
    return undefined;
  } finally {
    await cleanup();
  }
}

/**
 * Removes what a worker with this state directory may have left (after it exited): force-
 * deletes burstlet-runtime containers under `rtRoot` (monitors, processes, their cgroups),
 * unmounts everything below `stateDir`, removes the pod cgroups `/burstlet/<name>` that are `ours`, then the
 * directory itself.
 */
export async function sweepWorkerState(stateDir: string, ours: (cgroupName: string) => boolean, rtRoot = join(stateDir, 'run', 'executor', 'burstlet', 'state')): Promise<void> {
  for (const id of await readdir(rtRoot).catch(() => [] as string[])) {
    const state = await readFile(join(rtRoot, id, 'state.json'), 'utf8').catch(() => '');
    if (state) await run(burstletRuntimePath, ['--root', rtRoot, 'delete', '--force', id]).catch(() => undefined);
  }
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  const below = info.split('\n').map((l) => l.split(' ')[4]).filter((p) => p && (p === stateDir || p.startsWith(`${stateDir}/`)));
  for (const mp of below.sort((a, b) => b.length - a.length)) await run('umount', ['-l', mp]).catch(() => undefined);
  for (const mp of await cgroupMounts()) {
    const parent = join(mp, CGROUP_ROOT_NAME);
    for (const d of await readdir(parent).catch(() => [] as string[])) {
      if (ours(d)) await removeTree(join(parent, d));
    }
  }
  await rm(stateDir, { recursive: true, force: true });
}

async function removeTree(dir: string): Promise<void> {
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (e.isDirectory()) await removeTree(join(dir, e.name));
  }
  await rmdir(dir).catch(() => undefined);
}

/**
 * Leftovers of a bench run, for its report: mounts whose path contains `tag`, cgroups
 * `/burstlet/<name>` that are `ours` (default: name starts with `tag`), processes whose
 * command line contains `tag`.
 */
export async function leftovers(tag: string, ours = (cgroupName: string) => cgroupName.startsWith(tag)): Promise<string[]> {
  const out: string[] = [];
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  for (const l of info.split('\n')) if (l.split(' ')[4]?.includes(tag)) out.push(`mount ${l.split(' ')[4]}`);
  for (const mp of await cgroupMounts()) {
    for (const d of await readdir(join(mp, CGROUP_ROOT_NAME)).catch(() => [] as string[])) {
      if (ours(d)) out.push(`cgroup ${join(mp, CGROUP_ROOT_NAME, d)}`);
    }
  }
  for (const pid of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmd.includes(tag)) out.push(`process ${pid} ${cmd.replaceAll('\0', ' ').trim()}`);
  }
  return out;
}
