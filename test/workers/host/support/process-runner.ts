/**
 * A small real PodRunner for the host's tests: each container's command runs as a plain
 * child process (no namespaces, no images), all containers of a pod at once. Status
 * snapshots (Pending → Running → Succeeded/Failed), log lines and exec sessions are real;
 * restart policies, probes and init containers are not modelled. Carried restart counts
 * (`RunOptions.carried`) are shown as given, as the runtime's containers show them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { PodJob } from '../../../../src/schema/pod-job.ts';
import type { ExecOutput } from '../../../../src/schema/streams.ts';
import type { ExecSession, PodOutcome, PodReporter, PodRunner, PodSnapshot, RunOptions } from '../../../../workers/pod-runner.ts';

interface Pod {
  job: PodJob;
  options: RunOptions;
  reporter: PodReporter;
  children: Map<string, ChildProcess>;
  exits: Map<string, { code: number | null; signal: NodeJS.Signals | null; at: string }>;
  done: Promise<PodOutcome>;
}

export interface ProcessRunnerOptions {
  /** Every spawned pid is appended here (tests kill leftovers of a SIGKILLed host). */
  pidFile?: string;
}

export class ProcessRunner implements PodRunner {
  readonly #pods = new Map<string, Pod>();
  readonly #o: ProcessRunnerOptions;
  /** How many times each pod was started (not re-attached). */
  readonly starts = new Map<string, number>();
  /** Most pods this runner ever held at once. */
  maxConcurrent = 0;

  constructor(options: ProcessRunnerOptions = {}) {
    this.#o = options;
  }

  run(job: PodJob, reporter: PodReporter, options: RunOptions = {}): Promise<PodOutcome> {
    const existing = this.#pods.get(job.uid);
    if (existing) {
      existing.reporter = reporter;
      return existing.done;
    }
    this.starts.set(job.uid, (this.starts.get(job.uid) ?? 0) + 1);
    const pod: Pod = { job, options, reporter, children: new Map(), exits: new Map(), done: Promise.resolve({ phase: 'Failed' }) };
    this.#pods.set(job.uid, pod);
    this.maxConcurrent = Math.max(this.maxConcurrent, this.#pods.size);
    pod.done = this.#start(pod).finally(() => this.#pods.delete(job.uid));
    return pod.done;
  }

  async #start(pod: Pod): Promise<PodOutcome> {
    const { job } = pod;
    pod.reporter.status(this.#snapshot(pod, 'Pending'));
    const exited = job.containers.map((c) => {
      const argv = [...(c.command ?? []), ...(c.args ?? [])];
      const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
      for (const e of c.env ?? []) if (e.value !== undefined) env[e.name] = e.value;
      const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
      if (this.#o.pidFile && child.pid) appendFileSync(this.#o.pidFile, `${child.pid}\n`);
      pod.children.set(c.name, child);
      for (const stream of ['stdout', 'stderr'] as const) {
        createInterface({ input: child[stream]! }).on('line', (line) =>
          pod.reporter.log(c.name, { ts: new Date().toISOString(), stream, tag: 'F', line, attempt: pod.options.carried?.[c.name]?.restartCount ?? 0 }));
      }
      return new Promise<void>((resolve) => {
        child.once('error', () => child.emit('exit', 127, null));
        child.once('exit', (code, signal) => {
          pod.exits.set(c.name, { code, signal, at: new Date().toISOString() });
          resolve();
        });
      });
    });
    pod.reporter.status(this.#snapshot(pod, 'Running'));
    await Promise.all(exited);
    const ok = [...pod.exits.values()].every((e) => e.code === 0);
    const outcome: PodOutcome = ok ? { phase: 'Succeeded' } : { phase: 'Failed', reason: 'Error' };
    pod.reporter.status(this.#snapshot(pod, outcome.phase));
    return outcome;
  }

  #snapshot(pod: Pod, phase: PodSnapshot['phase']): PodSnapshot {
    const containerStatuses = pod.job.containers.map((c) => {
      const exit = pod.exits.get(c.name);
      const state = exit
        ? { terminated: { exitCode: exit.code ?? 128, signal: exit.signal ?? undefined, finishedAt: exit.at } }
        : phase === 'Pending' ? { waiting: { reason: 'ContainerCreating' } } : { running: { startedAt: new Date().toISOString() } };
      const carried = pod.options.carried?.[c.name];
      return { name: c.name, state, lastState: carried?.lastState ?? {}, ready: !exit && phase === 'Running', restartCount: carried?.restartCount ?? 0 };
    });
    return { uid: pod.job.uid, namespace: pod.job.namespace, name: pod.job.name, phase, containerStatuses };
  }

  async stop(uid: string, gracePeriodSeconds: number): Promise<void> {
    const pod = this.#pods.get(uid);
    if (!pod) return;
    for (const child of pod.children.values()) child.kill(gracePeriodSeconds === 0 ? 'SIGKILL' : 'SIGTERM');
    const timer = setTimeout(() => {
      for (const child of pod.children.values()) child.kill('SIGKILL');
    }, gracePeriodSeconds * 1000);
    await pod.done.catch(() => undefined);
    clearTimeout(timer);
  }

  async exec(uid: string, container: string, command: string[], opts: { stdin: boolean; tty: boolean }): Promise<ExecSession> {
    if (!this.#pods.get(uid)?.children.has(container)) throw new Error(`container ${container} of pod ${uid} is not running`);
    const child = spawn(command[0]!, command.slice(1), { stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    const out = new Channel<ExecOutput>();
    for (const stream of ['stdout', 'stderr'] as const) {
      child[stream]!.on('data', (d: Buffer) => out.push({ kind: stream, dataBase64: d.toString('base64') }));
    }
    // 'close' comes after both output streams ended: every chunk is in `out` by then.
    child.once('close', (code) => out.end({ kind: 'exit', exitCode: code ?? 137 }));
    return {
      output: out,
      write: (data) => child.stdin?.write(data),
      closeStdin: () => child.stdin?.end(),
      resize: () => undefined,
    };
  }

  list(): string[] {
    return [...this.#pods.keys()];
  }

  async close(): Promise<void> {
    await Promise.all(this.list().map((uid) => this.stop(uid, 0)));
  }
}

/** A push-based async iterable that ends after `end(last)`. */
class Channel<T> implements AsyncIterable<T> {
  readonly #items: T[] = [];
  #done = false;
  #wake: (() => void) | undefined;

  push(item: T): void {
    this.#items.push(item);
    this.#wake?.();
  }

  end(last: T): void {
    this.push(last);
    this.#done = true;
    this.#wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      while (this.#items.length) yield this.#items.shift()!;
      if (this.#done) return;
      await new Promise<void>((r) => (this.#wake = r));
      this.#wake = undefined;
    }
  }
}
