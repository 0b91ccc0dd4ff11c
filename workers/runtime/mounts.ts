/**
 * Performs mounts that other parts describe as plain data (snapshotter rootfs mounts, tmpfs
 * volumes) with the system `mount`/`umount`, and undoes them. Node cannot call mount(2)
 * itself; one short-lived process per mount is cheap next to a container start.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { BurstletError } from '../../src/errors.ts';

const run = promisify(execFile);

/** A mount as plain data (same shape as the image snapshotter's). */
export interface MountSpec {
  readonly type: string;
  readonly source: string;
  readonly options: readonly string[];
}

/** Mounts `m` at `target` (a bind when type is "bind" or options hold bind/rbind). */
export async function mountAt(m: MountSpec, target: string): Promise<void> {
  const bind = m.type === 'bind' || m.options.includes('bind') || m.options.includes('rbind');
  const opts = m.options.filter((o) => o !== 'bind' && o !== 'rbind');
  const args = bind
    ? [m.options.includes('rbind') ? '--rbind' : '--bind', m.source, target]
    : ['-t', m.type, ...(opts.length ? ['-o', opts.join(',')] : []), m.source, target];
  try {
    await run('mount', args);
    if (bind && opts.includes('ro')) await run('mount', ['-o', 'remount,bind,ro', target]);
  } catch (err) {
    throw new BurstletError('CONTAINER_CREATE', `mount ${m.type} ${m.source} on ${target}: ${(err as { stderr?: string }).stderr?.trim() || (err as Error).message}`, { cause: err });
  }
}

/** True when something is mounted exactly at `target`. */
export async function isMounted(target: string): Promise<boolean> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  return info.split('\n').some((l) => l.split(' ')[4] === target);
}

/** Unmounts everything stacked at `target`; a missing mount is fine (idempotent). */
export async function unmount(target: string): Promise<void> {
  for (let i = 0; i < 16 && (await isMounted(target)); i++) {
    await run('umount', [target]).catch(() => run('umount', ['-l', target]));
  }
}
