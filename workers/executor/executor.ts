/**
 * The Executor: runs OCI bundles (config.json + rootfs) the way an OCI runtime CLI does —
 * create, start, state, kill, delete, exec — with a monitor that outlives the worker.
 * Swappable (runc, crun, burstlet's native one); all pass test/workers/runtime/executor.test.ts.
 *
 * Contract every implementation keeps:
 * - Ids are unique per executor root; `create` on an existing id fails (CONFLICT).
 * - The container's stdout/stderr end up in a CRI-format log file at `logPath`
 *   (`<RFC3339Nano> <stream> <F|P> <text>`), written while it runs, also when the worker
 *   that started it is gone (a later executor instance on the same root resumes).
 * - The exit status (code, signal, OOM kill) is recorded when the container exits and is
 *   readable through `state` until `delete`; `wait` resolves once it is there.
 * - `kill` and `delete` are idempotent: a missing or stopped container is not an error.
 * - Nothing here throws for user-caused problems of the process itself (bad command):
 *   such a container simply ends stopped with `startError` set.
 */
import type { Readable, Writable } from 'node:stream';

export type ExecutorName = 'runc' | 'crun' | 'burstlet';

/** Where a created container's output goes. */
export interface CreateOptions {
  /** CRI-format log file (appended). */
  logPath: string;
}

/** A container as the executor sees it (OCI state plus exit details). */
export interface ExecutorState {
  id: string;
  status: 'created' | 'running' | 'stopped';
  bundle: string;
  pid?: number;
  /** ms since epoch. */
  startedAt?: number;
  finishedAt?: number;
  /** 128+signal when killed by a signal (shell convention, as the kubelet reports it). */
  exitCode?: number;
  signal?: number;
  oomKilled?: boolean;
  /** Set when the process could not be started at all (bad command, missing binary). */
  startError?: string;
}

/** A process started inside a running container. */
export interface ExecProcess {
  readonly stdin: Writable;
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** Resolves with the exit code (128+signal when signalled). Never rejects. */
  readonly exited: Promise<number>;
  kill(signal?: NodeJS.Signals): void;
  /** With `tty`: sets the terminal size (columns, rows). */
  resize?(cols: number, rows: number): void;
}

export interface ExecOptions {
  env?: string[];
  cwd?: string;
  user?: { uid: number; gid: number };
  /** A pseudo-terminal as the process's controlling terminal and stdio (stderr merged into stdout). */
  tty?: boolean;
}

export interface Executor {
  readonly name: ExecutorName;
  /** Prepares container `id` from the bundle; its process does not run yet. */
  create(id: string, bundle: string, options: CreateOptions): Promise<void>;
  /** Runs the process; resolves once it runs (or has already failed to start). */
  start(id: string): Promise<void>;
  /** Current state, or undefined when the id is unknown. */
  state(id: string): Promise<ExecutorState | undefined>;
  /**
   * Resolves when the container is stopped, with its final state; rejects with NOT_FOUND when
   * the container is deleted (by any caller) before that. Concurrent waits are allowed.
   */
  wait(id: string): Promise<ExecutorState>;
  /** Signals the container's init process (SIGTERM, SIGKILL, ...). */
  kill(id: string, signal: NodeJS.Signals): Promise<void>;
  /** Kills what still runs and removes every trace (state, cgroup). */
  delete(id: string): Promise<void>;
  /** Starts `args` inside running container `id` (same namespaces, cgroup and root). */
  exec(id: string, args: string[], options?: ExecOptions): Promise<ExecProcess>;
  /** Ids of the containers under this executor's root. */
  list(): Promise<string[]>;
  /**
   * Stops this instance's background work (log pumps, waits) and leaves every container
   * running: what a worker does when it shuts down; a later instance adopts them.
   * Optional: an executor whose monitor does all background work has nothing to stop.
   */
  close?(): Promise<void>;
}
