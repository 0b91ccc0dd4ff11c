/**
 * An Executor over an OCI runtime CLI (runc, crun). The monitor is a detached `sh` that runs
 * `<runtime> run` in the foreground — so the runtime stays the container's parent and hands
 * the exit status back — with stdout/stderr going to raw files and the exit code to a file.
 * The shell is in its own session: it survives the worker, and a later executor on the same
 * root adopts the container from the files. `create` only registers the bundle (the process is
 * created at `start`), because only a parent learns a process's exit status and a plain shell
 * cannot be a child subreaper.
 *
 * State dir per container (`<root>/<id>/`): meta.json, stdout.raw, stderr.raw, pump.json,
 * runtime.log (the runtime's own messages), pid (written by the runtime once the process
 * exists; its mtime is startedAt), exit (its mtime is finishedAt), oom.
 */
import { spawn, execFile } from 'node:child_process';
import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { constants } from 'node:os';
import { BurstletError } from '../../src/errors.ts';
import { singleFlight } from '../../src/single-flight.ts';
import type { CreateOptions, ExecOptions, ExecProcess, Executor, ExecutorName, ExecutorState } from './executor.ts';
import { RawLogPump } from './raw-log-pump.ts';
import { oomKillCount } from './oom.ts';

const run = promisify(execFile);
const MONITOR = 'D=$1; shift; "$@" >"$D/stdout.raw" 2>"$D/stderr.raw" </dev/null; echo $? >"$D/exit.tmp"; mv "$D/exit.tmp" "$D/exit"';
const POLL_MS = 20;
const PUMP_MS = 200;
const LIVENESS_MS = 1000;

/** True while `pid` exists (signal 0 probes without signalling). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
const START_TIMEOUT_MS = 60_000;

export interface OciCliOptions {
  name: ExecutorName;
  binary: string;
  /** Executor state root; the runtime's own state lives in `<root>/runtime`. */
  root: string;
  /** Command prefix the runtime runs under (crun on a hybrid cgroup host). */
  wrap?: string[];
  /** The runtime supports `run --keep` (runc): the cgroup outlives the process for OOM checks. */
  keep: boolean;
}

interface Meta { bundle: string; logPath: string }

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const exists = (p: string) => stat(p).then(() => true, () => false);

export class OciCliExecutor implements Executor {
  readonly name: ExecutorName;
  readonly #o: OciCliOptions;
  readonly #monitors = new Map<string, Promise<void>>();
  readonly #pumps = new Map<string, RawLogPump>();
  readonly #deleting = new Map<string, Promise<void>>();
  readonly #waits = new Map<string, Promise<ExecutorState>>();

  constructor(options: OciCliOptions) {
    this.#o = options;
    this.name = options.name;
  }

  #dir(id: string): string {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(id)) throw new BurstletError('INVALID_INPUT', `invalid container id "${id}"`);
    return join(this.#o.root, id);
  }

  #cli(args: string[]): [string, string[]] {
    const argv = [...(this.#o.wrap ?? []), this.#o.binary, '--root', join(this.#o.root, 'runtime'), ...args];
    return [argv[0], argv.slice(1)];
  }

  async #meta(id: string): Promise<Meta | undefined> {
    return readFile(join(this.#dir(id), 'meta.json'), 'utf8').then((t) => JSON.parse(t) as Meta, () => undefined);
  }

  async create(id: string, bundle: string, options: CreateOptions): Promise<void> {
    const dir = this.#dir(id);
    await mkdir(this.#o.root, { recursive: true });
    try {
      await mkdir(dir);
    } catch (err) {
      throw new BurstletError('CONFLICT', `container ${id} already exists`, { cause: err });
    }
    if (!(await exists(join(bundle, 'config.json')))) {
      await rm(dir, { recursive: true, force: true });
      throw new BurstletError('CONTAINER_CREATE', `bundle ${bundle} has no config.json`);
    }
    await writeFile(join(dir, 'meta.json'), JSON.stringify({ bundle, logPath: options.logPath } satisfies Meta));
  }

  async start(id: string): Promise<void> {
    const dir = this.#dir(id);
    const meta = await this.#meta(id);
    if (!meta) throw new BurstletError('NOT_FOUND', `container ${id} does not exist`);
    if (this.#monitors.has(id) || (await exists(join(dir, 'pid'))) || (await exists(join(dir, 'exit')))) {
      throw new BurstletError('CONFLICT', `container ${id} was already started`);
    }
    const runArgs = ['--log', join(dir, 'runtime.log'), '--log-format', 'json', 'run', '--pid-file', join(dir, 'pid'), ...(this.#o.keep ? ['--keep'] : []), '--bundle', meta.bundle, id];
    const [cmd, args] = this.#cli(runArgs);
    const child = spawn('sh', ['-c', MONITOR, 'burstlet-monitor', dir, cmd, ...args], { detached: true, stdio: 'ignore' });
    this.#monitors.set(id, new Promise((resolve) => child.once('close', () => resolve())));
    child.unref();
    this.#pump(id, dir, meta.logPath);
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (!(await exists(join(dir, 'pid'))) && !(await exists(join(dir, 'exit')))) {
      if (Date.now() > deadline) throw new BurstletError('CONTAINER_RUN', `container ${id} did not start within ${START_TIMEOUT_MS} ms`);
      await sleep(POLL_MS);
    }
  }

  #pump(id: string, dir: string, logPath: string): RawLogPump {
    let pump = this.#pumps.get(id);
    if (!pump) {
      pump = new RawLogPump(dir, logPath);
      pump.start(PUMP_MS);
      this.#pumps.set(id, pump);
    }
    return pump;
  }

  async state(id: string): Promise<ExecutorState | undefined> {
    const dir = this.#dir(id);
    const meta = await this.#meta(id);
    if (!meta) return undefined;
    const st: ExecutorState = { id, status: 'created', bundle: meta.bundle };
    const pid = await readFile(join(dir, 'pid'), 'utf8').catch(() => '');
    if (pid) {
      st.pid = Number(pid);
      st.startedAt = (await stat(join(dir, 'pid')).catch(() => undefined))?.mtimeMs; // undefined: deleted meanwhile
      st.status = 'running';
    }
    const exit = await readFile(join(dir, 'exit'), 'utf8').catch(() => '');
    if (!exit) return st;
    st.status = 'stopped';
    st.finishedAt = (await stat(join(dir, 'exit')).catch(() => undefined))?.mtimeMs;
    st.exitCode = Number(exit.trim());
    if (st.exitCode > 128) st.signal = st.exitCode - 128;
    st.oomKilled = await this.#oomKilled(id, dir, meta);
    if (!pid) {
      st.startError = await this.#runtimeError(dir);
      st.exitCode = 128; // what containerd reports for a process that never started
      delete st.signal;
    }
    return st;
  }

  /** OOM kills recorded once per container (the cgroup is gone after delete). */
  async #oomKilled(id: string, dir: string, meta: Meta): Promise<boolean | undefined> {
    const saved = await readFile(join(dir, 'oom'), 'utf8').catch(() => '');
    if (saved) return saved === 'true';
    if (!this.#o.keep) return undefined;
    const spec = JSON.parse(await readFile(join(meta.bundle, 'config.json'), 'utf8')) as { linux?: { cgroupsPath?: string } };
    const count = await oomKillCount(spec.linux?.cgroupsPath);
    if (count === undefined) return undefined;
    await writeFile(join(dir, 'oom'), String(count > 0));
    return count > 0;
  }

  async #runtimeError(dir: string): Promise<string> {
    const log = await readFile(join(dir, 'runtime.log'), 'utf8').catch(() => '');
    const errors = log.split('\n').filter(Boolean).map((l) => {
      try {
        return JSON.parse(l) as { level?: string; msg?: string };
      } catch {
        return { level: 'error', msg: l };
      }
    }).filter((e) => e.level === 'error');
    return errors.at(-1)?.msg ?? 'the runtime failed to start the process';
  }

  /**
   * Resolves with the final state once the exit record is there. One wait per container and
   * instance, shared by every caller: a caller that goes on to delete the container (the pod
   * runner after its wait) must not leave another caller (a graceful stop racing its grace
   * timer) polling a directory that is gone — that waiter never ended and kept the worker
   * alive. Rejects with NOT_FOUND when the container is deleted before its exit was seen
   * (by another instance on the same root).
   */
  wait(id: string): Promise<ExecutorState> {
    return singleFlight(this.#waits, id, () => this.#wait(id));
  }

  async #wait(id: string): Promise<ExecutorState> {
    const dir = this.#dir(id);
    const meta = await this.#meta(id);
    if (!meta) throw new BurstletError('NOT_FOUND', `container ${id} does not exist`);
    const pump = this.#pump(id, dir, meta.logPath);
    // The monitor we spawned is unref'd (it must not keep a stopping worker alive), so the
    // polling loop is what keeps this process waiting; the monitor's exit just ends it early.
    const own = this.#monitors.get(id);
    let exited = false;
    void own?.then(() => (exited = true));
    let lastCheck = Date.now();
    try {
      while (!exited && !(await exists(join(dir, 'exit')))) {
        if (!(await exists(join(dir, 'meta.json')))) throw new BurstletError('NOT_FOUND', `container ${id} was deleted before it exited`);
        await Promise.race([sleep(PUMP_MS), own ?? new Promise(() => {})]);
        // A monitor killed with its worker never writes `exit`: once a second, a container
        // process that is gone while `exit` is still missing (after one more look) is recorded
        // as killed (137), so waiting always ends.
        if (Date.now() - lastCheck < LIVENESS_MS) continue;
        lastCheck = Date.now();
        const pid = Number(await readFile(join(dir, 'pid'), 'utf8').catch(() => '0'));
        if (pid > 0 && !alive(pid)) {
          await sleep(PUMP_MS);
          if (!(await exists(join(dir, 'exit')))) await writeFile(join(dir, 'exit'), '137\n', { flag: 'wx' }).catch(() => {});
        }
      }
    } finally {
      // Unless delete() already stopped it: it does so before removing the files, which a
      // last drain here would write into again.
      if (this.#pumps.get(id) === pump) {
        await pump.stop(true);
        this.#pumps.delete(id);
      }
    }
    const st = await this.state(id);
    if (!st) throw new BurstletError('NOT_FOUND', `container ${id} was deleted before it exited`);
    return st;
  }

  async kill(id: string, signal: NodeJS.Signals): Promise<void> {
    const st = await this.state(id);
    if (!st || st.status !== 'running') return;
    const [cmd, args] = this.#cli(['kill', id, String(constants.signals[signal])]);
    await run(cmd, args).catch(() => undefined); // exited meanwhile: nothing to signal
  }

  /** Concurrent deletes of one container share one run (the executor contract: idempotent). */
  delete(id: string): Promise<void> {
    return singleFlight(this.#deleting, id, () => this.#delete(id));
  }

  async #delete(id: string): Promise<void> {
    const dir = this.#dir(id);
    const st = await this.state(id);
    if (!st) return;
    if (st.status === 'running') {
      await this.kill(id, 'SIGKILL');
      await this.wait(id);
    } else if (st.status === 'stopped') {
      await this.#oomKilled(id, dir, (await this.#meta(id))!); // record it before the cgroup goes
      // A wait that has not looked since the exit: let it read the exit record first.
      await this.#waits.get(id)?.catch(() => undefined);
    }
    await this.#pumps.get(id)?.stop(true);
    this.#pumps.delete(id);
    const [cmd, args] = this.#cli(['delete', '--force', id]);
    await run(cmd, args).catch(() => undefined); // never created or already gone
    await rm(dir, { recursive: true, force: true });
    this.#monitors.delete(id);
  }

  async exec(id: string, argv: string[], options: ExecOptions = {}): Promise<ExecProcess> {
    const st = await this.state(id);
    if (st?.status !== 'running') throw new BurstletError('CONFLICT', `container ${id} is not running`);
    const flags: string[] = [];
    if (options.cwd) flags.push('--cwd', options.cwd);
    // crun replaces the env with --env (runc appends), so always pass the whole list.
    for (const e of await this.#execEnv(st.bundle, options.env ?? [])) flags.push('--env', e);
    if (options.user) flags.push('--user', `${options.user.uid}:${options.user.gid}`);
    const [cmd, args] = this.#cli(['exec', ...flags, id, ...argv]);
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const exited = new Promise<number>((resolve) => {
      child.once('error', () => resolve(127));
      child.once('close', (code, sig) => resolve(code ?? 128 + (sig ? constants.signals[sig] : 0)));
    });
    return { stdin: child.stdin, stdout: child.stdout, stderr: child.stderr, exited, kill: (s = 'SIGKILL') => child.kill(s) };
  }

  async #execEnv(bundle: string, extra: string[]): Promise<string[]> {
    const spec = JSON.parse(await readFile(join(bundle, 'config.json'), 'utf8')) as { process?: { env?: string[] } };
    const env = new Map<string, string>();
    for (const e of [...(spec.process?.env ?? []), ...extra]) env.set(e.split('=', 1)[0], e);
    return [...env.values()];
  }

  async close(): Promise<void> {
    for (const pump of this.#pumps.values()) await pump.stop(false);
    this.#pumps.clear();
    this.#monitors.clear();
  }

  async list(): Promise<string[]> {
    const names = await readdir(this.#o.root).catch(() => [] as string[]);
    const out: string[] = [];
    for (const n of names) if (n !== 'runtime' && (await exists(join(this.#o.root, n, 'meta.json')))) out.push(n);
    return out.sort();
  }
}
