// A thin typed driver of OCI runtime CLIs: create/start/state/kill/delete/run/exec of a
// bundle through burstlet-runtime (default), runc or crun, with the runtime's stderr as the
// error message. The worker's Executor for burstlet (burstlet.ts) sits on top of it; the
// runc/crun modes serve side-by-side comparisons (test/native, bench/executor) — the
// worker's runc/crun Executors are oci-cli.ts, which adds the monitor those lack.
//
// burstlet-runtime's monitor records exit status (exit code, signal, OOM) and writes the
// container's output as a CRI log; with runc and crun `exit` is unknown here and the log
// file receives raw stdout/stderr.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BurstletError } from '../../src/errors.ts';
import { isHybridCgroupHost } from './crun.ts';
import { loadNativeLib } from './native-lib.ts';
import { runtimeServer } from './runtime-server.ts';
import { readContainerState } from './state-reader.ts';

export { isHybridCgroupHost };

/** Which OCI runtime binary runs the bundles. */
export type RuntimeName = 'burstlet' | 'runc' | 'crun';

/** OCI runtime-spec statuses. */
export type ContainerStatus = 'creating' | 'created' | 'running' | 'stopped';

/** How a container ended, as recorded by burstlet's monitor. */
export interface ContainerExit {
  exitCode: number; // 128+signal when killed by a signal
  signal: number; // 0 unless killed by a signal
  oomKilled: boolean;
  finishedAt: string; // RFC 3339 with nanoseconds
}

/** The OCI state of a container, plus the exit record when the runtime has one. */
export interface ContainerState {
  id: string;
  status: ContainerStatus;
  pid: number;
  bundle: string;
  exit?: ContainerExit;
  /** burstlet: stopped, and the monitor is about to write the exit record. */
  exitPending?: boolean;
}

/** Output of a foreground run or exec; exitCode is the process's (128+signal if killed). */
export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface NativeRuntimeOptions {
  /** Which runtime runs the bundles; default 'burstlet'. */
  runtime?: RuntimeName;
  /** State directory of the runtime (its --root); one per worker host. */
  root: string;
  /** Path of the runtime binary; defaults to native/build/burstlet-runtime, runc, crun. */
  binary?: string;
  /**
   * burstlet only (default true): no process per call — `state` is read from the state
   * directory (state-reader.ts), start/kill/delete run in-process on the thread pool
   * (libburstlet), create/run/exec go through one long-lived `burstlet-runtime serve`
   * (runtime-server.ts). False spawns the binary for every call.
   */
  served?: boolean;
}

const here = dirname(fileURLToPath(import.meta.url));
/** Where `make -C native` puts the executor. */
export const burstletRuntimePath = resolve(here, '../../native/build/burstlet-runtime');

/**
 * Drives one OCI runtime. Every method spawns the runtime binary (never enters namespaces
 * in-process: Node is multi-threaded) and fails with a BurstletError carrying the runtime's
 * stderr. Methods may be called concurrently for different containers.
 */
export class NativeRuntime {
  readonly runtime: RuntimeName;
  readonly root: string;
  private readonly binary: string;
  private readonly served: boolean;

  constructor(options: NativeRuntimeOptions) {
    this.runtime = options.runtime ?? 'burstlet';
    this.root = options.root;
    this.binary = options.binary ?? (this.runtime === 'burstlet' ? burstletRuntimePath : this.runtime);
    this.served = this.runtime === 'burstlet' && options.served !== false;
  }

  /**
   * Creates the container from `bundle` (directory with config.json); resolves once its
   * process waits for `start`, or with `start` once it runs (burstlet: one call, `create
   * --start`; runc/crun: create, then start). The container's output goes to `logPath`.
   * Fails with CONTAINER_CREATE and leaves nothing behind.
   */
  async create(id: string, bundle: string, opts: { logPath: string; start?: boolean }): Promise<void> {
    if (this.runtime === 'burstlet') {
      await this.call(['create', '--bundle', bundle, '--log-path', opts.logPath, ...(opts.start ? ['--start'] : []), id], 'CONTAINER_CREATE');
      return;
    }
    // runc/crun hand the container our stdio, so give them the log file, not pipes.
    const fd = openSync(opts.logPath, 'a');
    try {
      await this.spawnWithFd(['create', '--bundle', bundle, id], fd, opts.logPath);
    } finally {
      closeSync(fd);
    }
    if (opts.start) await this.start(id);
  }

  /**
   * Runs the bundle in the foreground (create + start + wait + delete in one call of the
   * runtime) and collects its output; the exit code is the container's.
   */
  async run(id: string, bundle: string): Promise<ExecResult> {
    return await this.execFile(['run', '--bundle', bundle, id]);
  }

  /** Lets a created container run its process. */
  async start(id: string): Promise<void> {
    if (this.served) return await this.inProcess('start', () => loadNativeLib().containerStart(this.root, id));
    await this.call(['start', id], 'CONTAINER_RUN');
  }

  /** The container's state; NOT_FOUND when it does not exist. */
  async state(id: string): Promise<ContainerState> {
    if (this.served) return await readContainerState(this.root, id);
    const out = await this.call(['state', id], 'NOT_FOUND');
    const raw = JSON.parse(out) as Record<string, unknown>;
    const extra = (raw.burstlet ?? {}) as Record<string, unknown>;
    const state: ContainerState = {
      id: String(raw.id),
      status: raw.status as ContainerStatus,
      pid: Number(raw.pid ?? 0),
      bundle: String(raw.bundle ?? ''),
    };
    if (typeof extra.exitCode === 'number') {
      state.exit = {
        exitCode: extra.exitCode,
        signal: Number(extra.signal ?? 0),
        oomKilled: extra.oomKilled === true,
        finishedAt: String(extra.finishedAt ?? ''),
      };
    }
    return state;
  }

  /** Sends `signal` (name like 'SIGTERM' or number) to the container's init, or with `all` to all its processes. */
  async kill(id: string, signal: string | number = 'SIGTERM', opts: { all?: boolean } = {}): Promise<void> {
    if (this.served) {
      return await this.inProcess('kill', () => loadNativeLib().containerKill(this.root, id, String(signal), opts));
    }
    const args = ['kill', ...(opts.all ? ['--all'] : []), id, String(signal)];
    await this.call(args, 'CONTAINER_RUN');
  }

  /**
   * Removes a stopped container; `force` kills it first. Idempotent with `force`. `stopped`:
   * the caller knows it stopped with its exit record (no state read first).
   */
  async delete(id: string, opts: { force?: boolean; stopped?: boolean } = {}): Promise<void> {
    // A forced delete of a live container waits for its exit: that stays in a process.
    if (this.served && (!opts.force || opts.stopped || (await this.state(id).then((s) => s.status === 'stopped' && !s.exitPending, () => true)))) {
      return await this.inProcess('delete', () => loadNativeLib().containerDelete(this.root, id, opts));
    }
    await this.call(['delete', ...(opts.force ? ['--force'] : []), id], 'CONTAINER_RUN');
  }

  /** Runs `args` inside the running container and collects its output. */
  async exec(id: string, args: string[], opts: ExecFlags = {}): Promise<ExecResult> {
    return await this.execFile(['exec', ...execFlags(opts), id, ...args]);
  }

  /**
   * Starts `args` in the running container with piped stdio and returns the runtime's
   * process: signals sent to it reach the exec'd process (burstlet-runtime and runc
   * forward them); its exit code is the process's (127 + message on stderr if it could
   * not be started).
   */
  spawnExec(id: string, args: string[], opts: ExecFlags = {}): ChildProcess {
    if (opts.tty && this.runtime !== 'burstlet') {
      throw new BurstletError('NOT_IMPLEMENTED', `exec with a TTY needs the burstlet runtime (${this.runtime} wants a console socket)`);
    }
    // With a TTY, fd 3 carries "COLS ROWS" lines (resize).
    const tty = opts.tty ? ['--tty', '--resize-fd', '3'] : [];
    const [file, argv] = this.argv(['exec', ...execFlags(opts), ...tty, id, ...args]);
    return spawn(file, argv, { stdio: opts.tty ? ['pipe', 'pipe', 'pipe', 'pipe'] : ['pipe', 'pipe', 'pipe'] });
  }

  /**
   * Polls until the container is stopped (or `timeoutMs` passes: DEADLINE_EXCEEDED) and
   * returns its final state. Works for containers created by another (dead) driver.
   */
  async waitForExit(id: string, opts: { timeoutMs?: number; intervalMs?: number } = {}): Promise<ContainerState> {
    const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
    for (;;) {
      const st = await this.state(id);
      if (st.status === 'stopped' && !st.exitPending) return st;
      if (Date.now() > deadline) {
        throw new BurstletError('DEADLINE_EXCEEDED', `container ${id} still ${st.status}`);
      }
      await new Promise((r) => setTimeout(r, opts.intervalMs ?? 20));
    }
  }

  /** The argv that runs the runtime; crun sees a v1-only view on hybrid hosts. */
  private argv(args: string[]): [string, string[]] {
    const full = ['--root', this.root, ...args];
    if (this.runtime === 'crun' && isHybridCgroupHost()) {
      // crun 1.8 refuses hybrid hosts; in a private mount namespace without the cgroup2
      // mount it sees pure cgroup v1.
      const script = 'umount /sys/fs/cgroup/unified 2>/dev/null; exec "$0" "$@"';
      return ['unshare', ['-m', 'sh', '-c', script, this.binary, ...full]];
    }
    return [this.binary, full];
  }

  /** A library call standing for `burstlet-runtime <command>`, failing as `call` would. */
  private async inProcess(command: string, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      const message = `burstlet-runtime: ${(err as Error).message}`;
      const notFound = /does not exist/.test(message);
      throw new BurstletError(notFound ? 'NOT_FOUND' : 'CONTAINER_RUN', message, {
        cause: err, details: { runtime: this.runtime, command },
      });
    }
  }

  /** Runs the runtime, resolving to stdout; failures carry stderr as the message. */
  private async call(args: string[], code: 'CONTAINER_CREATE' | 'CONTAINER_RUN' | 'NOT_FOUND'): Promise<string> {
    const r = await this.execFile(args);
    if (r.exitCode !== 0) {
      const message = r.stderr.trim() || `${this.runtime} ${args[0]} exited with ${r.exitCode}`;
      // runc: "container does not exist"; crun: "error opening file `<root>/<id>/status`".
      const notFound = args[0] !== 'create' && /does not exist|No such file or directory/.test(message);
      throw new BurstletError(notFound ? 'NOT_FOUND' : code === 'NOT_FOUND' ? 'RUNTIME_FAILED' : code, message, {
        details: { runtime: this.runtime, command: args[0], exitCode: r.exitCode },
      });
    }
    return r.stdout;
  }

  private execFile(args: string[]): Promise<ExecResult> {
    if (this.served) return runtimeServer(this.binary).run(['--root', this.root, ...args]);
    const [file, argv] = this.argv(args);
    return new Promise((resolvePromise, reject) => {
      execFile(file, argv, { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
        const e = err as (NodeJS.ErrnoException & { code?: unknown }) | null;
        if (e && typeof e.code === 'string') {
          reject(new BurstletError('RUNTIME_FAILED', `cannot run ${file}: ${e.message}`, { cause: e }));
          return;
        }
        resolvePromise({ exitCode: e ? Number(e.code ?? 1) : 0, stdout, stderr });
      });
    });
  }

  /** runc/crun create with the log file as the container's stdout/stderr. */
  private spawnWithFd(args: string[], fd: number, logPath: string): Promise<void> {
    const [file, argv] = this.argv(args);
    const before = statSync(logPath).size;
    return new Promise((resolvePromise, reject) => {
      const child = spawn(file, argv, { stdio: ['ignore', fd, fd] });
      child.once('error', (e) => reject(new BurstletError('RUNTIME_FAILED', `cannot run ${file}: ${e.message}`)));
      child.once('exit', (code) => {
        if (code === 0) return resolvePromise();
        const tail = readFileSync(logPath, 'utf8').slice(before).trim();
        reject(new BurstletError('CONTAINER_CREATE', tail || `${this.runtime} create exited with ${code}`));
      });
    });
  }
}

/** Options of `exec`: extra env entries, working directory, "uid[:gid]". */
export interface ExecFlags {
  env?: string[];
  cwd?: string;
  user?: string;
  /** spawnExec only: a pseudo-terminal (burstlet runtime). */
  tty?: boolean;
}

function execFlags(opts: ExecFlags): string[] {
  const flags: string[] = [];
  for (const e of opts.env ?? []) flags.push('--env', e);
  if (opts.cwd) flags.push('--cwd', opts.cwd);
  if (opts.user) flags.push('--user', opts.user);
  return flags;
}
