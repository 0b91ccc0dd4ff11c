/**
 * burstlet's native executor as an Executor (see executor.ts for the contract): drives
 * native/build/burstlet-runtime, whose own monitor writes the CRI log and the exit record
 * and outlives the worker.
 *
 * Like the runc/crun executors, `create` only registers the bundle and `start` runs the
 * runtime's create + start, so a bad command ends as a stopped container with
 * `startError` (burstlet-runtime refuses it at create, as runc does) instead of an error.
 *
 * Layout under `root`: `meta/<id>.json` (bundle, logPath, startedAt, startError) written
 * here, `state/` the runtime's --root. Meta and state files are small and local: read,
 * written and removed synchronously. The worker keeps this root in its run directory, a
 * tmpfs (workers/runtime/run-dir.ts), where such a call takes microseconds; a pool-thread
 * call (koffi) cost more than that in wake-ups alone, three times per container.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { constants } from 'node:os';
import type { Writable } from 'node:stream';
import { join } from 'node:path';
import { BurstletError } from '../../src/errors.ts';
import { singleFlight } from '../../src/single-flight.ts';
import { readSmall } from '../../src/small-files.ts';
import type { CreateOptions, ExecOptions, ExecProcess, Executor, ExecutorState } from './executor.ts';
import { NativeRuntime } from './native-runtime.ts';

interface Meta {
  id: string;
  bundle: string;
  logPath: string;
  startedAt?: number;
  startError?: string;
  failedAt?: number;
}

/** Exit code reported when the process could not be started (as the OCI CLI executors do). */
const START_ERROR_EXIT = 128;
const POLL_MS = 20;
/** With an inotify watch on the state directory, the safety-net poll. */
const WATCHED_POLL_MS = 250;
/** While waiting, the full `state` (a process spawn) runs only this often, or once exit.json appears. */
const FULL_STATE_MS = 1000;

/** The burstlet Executor keeping its state under `root` (one per worker host). */
export function burstletExecutor(root: string, binary?: string): Executor {
  return new BurstletExecutor(root, binary);
}

/** See the file comment; safe to instantiate again on the same root to re-adopt. */
export class BurstletExecutor implements Executor {
  readonly name = 'burstlet' as const;
  private readonly rt: NativeRuntime;
  private readonly metaDir: string;
  /** meta files as last written or read by this instance (every change goes through it). */
  private readonly metas = new Map<string, Meta>();
  readonly #deleting = new Map<string, Promise<void>>();
  /** Containers stopped with their exit record: their state no longer changes until delete. */
  readonly #final = new Map<string, ExecutorState>();

  constructor(root: string, binary?: string) {
    this.rt = new NativeRuntime({ runtime: 'burstlet', root: join(root, 'state'), binary });
    this.metaDir = join(root, 'meta');
  }

  async create(id: string, bundle: string, options: CreateOptions): Promise<void> {
    const meta: Meta = { id, bundle, logPath: options.logPath };
    const path = this.metaPath(id);
    const write = () => writeFileSync(path, JSON.stringify(meta), { flag: 'wx' });
    try {
      try {
        write();
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        mkdirSync(this.metaDir, { recursive: true }); // the first container here
        write();
      }
      this.metas.set(id, meta);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new BurstletError('CONFLICT', `container ${id} already exists`, { cause: err });
      }
      throw new BurstletError('RUNTIME_FAILED', `cannot record container ${id}: ${(err as Error).message}`, { cause: err });
    }
  }

  async start(id: string): Promise<void> {
    const meta = await this.meta(id);
    if (!meta) throw new BurstletError('NOT_FOUND', `container ${id} does not exist`);
    if (meta.startedAt !== undefined || meta.startError !== undefined) return;
    const startedAt = Date.now();
    try {
      // One runtime call: its process runs as soon as it is set up (no exec.fifo to open).
      await this.rt.create(id, meta.bundle, { logPath: meta.logPath, start: true });
    } catch (err) {
      if (!(err instanceof BurstletError) || !isProcessProblem(err.message)) throw err;
      await this.rt.delete(id, { force: true }).catch(() => {});
      await this.saveMeta({ ...meta, startError: err.message.replace(/^burstlet-runtime: /, ''), failedAt: Date.now() });
      return;
    }
    await this.saveMeta({ ...meta, startedAt });
  }

  async state(id: string): Promise<ExecutorState | undefined> {
    const final = this.#final.get(id);
    if (final && existsSync(this.metaPath(id))) return { ...final }; // one stat, not two reads and /proc
    const meta = await this.meta(id);
    if (!meta) return undefined;
    const base = { id, bundle: meta.bundle };
    if (meta.startError !== undefined) {
      return { ...base, status: 'stopped', exitCode: START_ERROR_EXIT, startError: meta.startError,
        startedAt: meta.failedAt, finishedAt: meta.failedAt };
    }
    if (meta.startedAt === undefined) return { ...base, status: 'created' };
    let st;
    try {
      st = await this.rt.state(id);
    } catch (err) {
      if (err instanceof BurstletError && err.code === 'NOT_FOUND') return { ...base, status: 'stopped', startedAt: meta.startedAt };
      throw err;
    }
    // Gone but its monitor has not written the exit record yet: still running for callers, so
    // nobody sees a stop without its exit code.
    const stopped = st.status === 'stopped' && !st.exitPending;
    const state: ExecutorState = { ...base, status: stopped ? 'stopped' : st.status === 'created' ? 'created' : 'running',
      startedAt: meta.startedAt };
    if (st.pid > 0) state.pid = st.pid;
    if (st.exit) {
      state.exitCode = st.exit.exitCode;
      if (st.exit.signal) state.signal = st.exit.signal;
      state.oomKilled = st.exit.oomKilled;
      state.finishedAt = Math.max(Date.parse(st.exit.finishedAt), meta.startedAt);
      if (stopped) this.#final.set(id, { ...state });
    }
    return state;
  }

  // Waiting watches the container's state directory (inotify) for the monitor's exit record
  // and checks for it on every change, or every POLL_MS without a watch; the full state (a
  // monitor that died without writing one) only every FULL_STATE_MS. A 20 ms poll per
  // container kept a busy worker's thread pool and main thread at work for nothing.
  async wait(id: string): Promise<ExecutorState> {
    const dir = join(this.rt.root, id);
    const exitFile = join(dir, 'exit.json');
    let wake: (() => void) | undefined;
    let watcher: FSWatcher | undefined;
    try {
      // Only the exit record wakes the wait: the monitor's temp file and the start's fifo
      // removal are events in the same directory (a wake-up and a check each).
      watcher = watch(dir, (_event, name) => (name === 'exit.json' || !name) && wake?.());
      watcher.on('error', () => undefined); // the directory went away: the poll below notices
    } catch {
      watcher = undefined; // no directory yet or no inotify: poll
    }
    let lastFull = 0;
    try {
      for (;;) {
        const exited = existsSync(exitFile);
        if (exited || Date.now() - lastFull >= FULL_STATE_MS) {
          lastFull = Date.now();
          const st = await this.state(id);
          if (!st) throw new BurstletError('NOT_FOUND', `container ${id} does not exist`);
          if (st.status === 'stopped') return st;
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, watcher ? WATCHED_POLL_MS : POLL_MS);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
      }
    } finally {
      watcher?.close();
    }
  }

  async kill(id: string, signal: NodeJS.Signals): Promise<void> {
    const st = await this.state(id);
    if (!st || st.status !== 'running') return;
    try {
      await this.rt.kill(id, signal);
    } catch (err) {
      if ((await this.state(id))?.status === 'running') throw err; // else it just exited
    }
  }

  /** Concurrent deletes of one container share one run (the executor contract: idempotent). */
  delete(id: string): Promise<void> {
    return singleFlight(this.#deleting, id, () => this.#delete(id));
  }

  async #delete(id: string): Promise<void> {
    const meta = await this.meta(id);
    if (!meta) return;
    // Known stopped with its exit record: deleted without reading its state again.
    if (meta.startedAt !== undefined) await this.rt.delete(id, { force: true, stopped: this.#final.has(id) });
    rmSync(this.metaPath(id), { force: true });
    this.metas.delete(id);
    this.#final.delete(id);
  }

  async exec(id: string, args: string[], options: ExecOptions = {}): Promise<ExecProcess> {
    const st = await this.state(id);
    if (st?.status !== 'running') throw new BurstletError('CONFLICT', `container ${id} is not running`);
    const child = this.rt.spawnExec(id, args, {
      env: options.env, cwd: options.cwd, user: options.user && `${options.user.uid}:${options.user.gid}`, tty: options.tty,
    });
    const resizeFd = options.tty ? (child.stdio[3] as Writable) : undefined;
    resizeFd?.on('error', () => {}); // the process is gone: nothing to resize
    const exited = new Promise<number>((resolve) => {
      child.once('error', () => resolve(127));
      child.once('exit', (code, sig) => resolve(code ?? 128 + (sig ? signalNumber(sig) : 0)));
    });
    return {
      stdin: child.stdin!, stdout: child.stdout!, stderr: child.stderr!, exited,
      kill: (signal = 'SIGTERM') => void child.kill(signal),
      ...(resizeFd ? { resize: (cols: number, rows: number) => void resizeFd.write(`${Math.trunc(cols)} ${Math.trunc(rows)}\n`) } : {}),
    };
  }

  async list(): Promise<string[]> {
    try {
      return readdirSync(this.metaDir).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5));
    } catch {
      return [];
    }
  }

  private metaPath(id: string): string {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(id)) throw new BurstletError('INVALID_INPUT', `invalid container id ${JSON.stringify(id)}`);
    return join(this.metaDir, `${id}.json`);
  }

  private async meta(id: string): Promise<Meta | undefined> {
    const known = this.metas.get(id);
    if (known) return known;
    const text = readSmall(this.metaPath(id));
    if (text === undefined) return undefined;
    const meta = JSON.parse(text) as Meta;
    this.metas.set(id, meta);
    return meta;
  }

  private async saveMeta(meta: Meta): Promise<void> {
    // Temp + rename: a crash leaves the old record or the new one, never half of one.
    const path = this.metaPath(meta.id);
    writeFileSync(`${path}.tmp`, JSON.stringify(meta));
    renameSync(`${path}.tmp`, path);
    this.metas.set(meta.id, meta);
  }
}

/** Create failures caused by the process spec rather than the host: they end as startError. */
function isProcessProblem(message: string): boolean {
  return /exec `|executable file not found|chdir to process\.cwd/.test(message);
}

function signalNumber(sig: NodeJS.Signals): number {
  return (constants.signals as Record<string, number>)[sig] ?? 0;
}
