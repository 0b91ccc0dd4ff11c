// burstlet-runtime's `state` computed in-process from the container's state directory
// (native/src/lib/state.h: state.json from the monitor, exit.json at exit, exec.fifo while
// created), with the same rules as bl_state_load: stopped once exit.json exists or the init
// pid is no longer the same process (start time from /proc), created while exec.fifo is
// there, else running. Reading three small files costs microseconds; spawning `state`
// costs a fork of the worker. The CLI's `state` stays the reference (test/native compares).
// The reads are synchronous: small local files (see src/small-files.ts).
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { BurstletError } from '../../src/errors.ts';
import { readSmall } from '../../src/small-files.ts';

/** Same shape as NativeRuntime's ContainerState (kept here to avoid an import cycle). */
export interface StateRecord {
  id: string;
  status: 'creating' | 'created' | 'running' | 'stopped';
  pid: number;
  bundle: string;
  exit?: { exitCode: number; signal: number; oomKilled: boolean; finishedAt: string };
  /** Stopped without an exit record while its monitor still runs: the record is coming. */
  exitPending?: boolean;
}

const ID = /^[A-Za-z0-9_.-]{1,200}$/;

/** State letter and start time (clock ticks since boot) of `pid` from /proc/<pid>/stat; undefined if gone. */
async function procStat(pid: number): Promise<{ state: string; startTime: number } | undefined> {
  if (pid <= 0) return undefined;
  let text = '';
  try {
    text = readSmall(`/proc/${pid}/stat`) ?? '';
  } catch {
    // ESRCH and the like: gone
  }
  if (!text) return undefined;
  // comm (field 2) may hold spaces and parentheses: fields resume after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: rest[0], startTime: Number(rest[19]) || 0 }; // rest[0] is field 3, so field 22 is rest[19]
}

/** Start time of `pid` (field 22 of /proc/<pid>/stat), or 0 if gone. */
export async function procStartTime(pid: number): Promise<number> {
  return (await procStat(pid))?.startTime ?? 0;
}

/** True while `pid` runs (not gone, not a zombie). */
async function isLive(pid: number): Promise<boolean> {
  const st = await procStat(pid);
  return st !== undefined && st.state !== 'Z' && st.state !== 'X';
}

async function readJson(path: string): Promise<Record<string, unknown> | undefined> {
  const text = readSmall(path);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new BurstletError('RUNTIME_FAILED', `burstlet-runtime: ${path}: not valid JSON`, { cause: err });
  }
}

/** The container's state under `root`; NOT_FOUND when it does not exist. */
export async function readContainerState(root: string, id: string): Promise<StateRecord> {
  if (!ID.test(id) || id === '.' || id === '..') {
    throw new BurstletError('RUNTIME_FAILED', `burstlet-runtime: invalid container id \`${id}\``);
  }
  const dir = join(root, id);
  // One listing says which records exist: no failed open (a thrown error each) for the exit
  // record of a running container, no separate checks for the directory and the fifo.
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new BurstletError('NOT_FOUND', `burstlet-runtime: container \`${id}\` does not exist`, { cause: err });
    }
    throw err;
  }
  const doc = names.includes('state.json') ? await readJson(join(dir, 'state.json')) : undefined;
  if (!doc) return { id, status: 'creating', pid: 0, bundle: '' };
  const num = (o: Record<string, unknown>, k: string) => (typeof o[k] === 'number' ? Math.trunc(o[k] as number) : 0);
  const state: StateRecord = { id, status: 'stopped', pid: 0, bundle: typeof doc.bundle === 'string' ? doc.bundle : '' };
  const readExit = async () => {
    const exit = await readJson(join(dir, 'exit.json')).catch(() => undefined);
    if (exit) {
      state.exit = {
        exitCode: num(exit, 'exitCode'),
        signal: num(exit, 'signal'),
        oomKilled: exit.oomKilled === true,
        finishedAt: typeof exit.finishedAt === 'string' ? exit.finishedAt : '',
      };
    }
  };
  if (names.includes('exit.json')) await readExit();
  const pid = num(doc, 'pid');
  if (!state.exit && pid > 0 && (await procStartTime(pid)) === num(doc, 'pidStart')) {
    state.pid = pid;
    // The fifo goes at start, after the listing: `created` may be a moment late, never early.
    state.status = names.includes('exec.fifo') && existsSync(join(dir, 'exec.fifo')) ? 'created' : 'running';
  } else if (!state.exit) {
    // The init is gone: its monitor either still has the record to write, or wrote it and
    // left after the listing (read again).
    if (await isLive(num(doc, 'monitorPid'))) state.exitPending = true;
    else await readExit();
  }
  return state;
}
