/**
 * The worker host's PodRunner over the RuntimeService: one PodLifecycle per pod uid. `run`
 * on a uid already running joins that run (nothing runs twice); `stop` is idempotent.
 * After a worker restart, `recover` finds the pods the earlier process left running: `list`
 * names them, `run` adopts one (its containers keep running, reporting resumes), `stop`
 * removes one that is no longer ours.
 * Exec sessions stream the process's output as ExecOutput records ending with `exit`.
 */
import { BurstletError } from '../../src/errors.ts';
import type { PodJob } from '../../src/schema/pod-job.ts';
import type { ExecOutput } from '../../src/schema/streams.ts';
import type { ExecSession, PodOutcome, PodReporter, PodRunner, RunOptions } from '../pod-runner.ts';
import { KUBELET_BACKOFF } from './backoff.ts';
import type { ImageSource } from './image-source.ts';
import type { LifecycleTiming } from './pod-context.ts';
import { PodLifecycle } from './pod-lifecycle.ts';
import type { RuntimeService } from './runtime-service.ts';

export interface RuntimePodRunnerOptions {
  runtime: RuntimeService;
  images: ImageSource;
  /** Defaults to the kubelet's timings. */
  timing?: Partial<LifecycleTiming>;
}

/** A push-to-pull queue: the exec output iterable. */
function outputQueue(): { push(o: ExecOutput): void; end(): void; iterable: AsyncIterable<ExecOutput> } {
  const items: ExecOutput[] = [];
  let ended = false;
  let wake: (() => void) | undefined;
  return {
    push(o) {
      items.push(o);
      wake?.();
    },
    end() {
      ended = true;
      wake?.();
    },
    iterable: {
      async *[Symbol.asyncIterator]() {
        for (;;) {
          while (items.length) yield items.shift()!;
          if (ended) return;
          await new Promise<void>((r) => (wake = r));
          wake = undefined;
        }
      },
    },
  };
}

export class RuntimePodRunner implements PodRunner {
  readonly #o: RuntimePodRunnerOptions;
  readonly #timing: LifecycleTiming;
  readonly #pods = new Map<string, PodLifecycle>();
  readonly #recovered = new Set<string>();

  constructor(options: RuntimePodRunnerOptions) {
    this.#o = options;
    this.#timing = { backoff: KUBELET_BACKOFF, pullBackoff: KUBELET_BACKOFF, statsIntervalMs: 10_000, ...options.timing };
  }

  run(job: PodJob, reporter: PodReporter, options: RunOptions = {}): Promise<PodOutcome> {
    const running = this.#pods.get(job.uid);
    if (running) return running.run();
    const adopt = this.#recovered.delete(job.uid);
    // A recovered pod's containers carry their own counts (their attempts).
    const lc = new PodLifecycle(job, this.#o.runtime, this.#o.images, this.#timing, reporter, adopt, adopt ? {} : options);
    this.#pods.set(job.uid, lc);
    return lc.run().finally(() => this.#pods.delete(job.uid));
  }

  /** Loads the pods an earlier worker process left on this host; returns their uids. */
  recover(): string[] {
    for (const uid of this.#o.runtime.recover()) if (!this.#pods.has(uid)) this.#recovered.add(uid);
    return [...this.#recovered];
  }

  async stop(uid: string, gracePeriodSeconds: number): Promise<void> {
    if (this.#recovered.delete(uid)) {
      for (const c of await this.#o.runtime.listContainers({ podUid: uid })) {
        await this.#o.runtime.stopContainer(c.id, gracePeriodSeconds).catch(() => undefined);
      }
      await this.#o.runtime.removePodSandbox(uid);
      return;
    }
    await this.#pods.get(uid)?.stop(gracePeriodSeconds);
  }

  async exec(uid: string, container: string, command: string[], opts: { stdin: boolean; tty: boolean }): Promise<ExecSession> {
    const id = this.#pods.get(uid)?.containerId(container);
    if (!id) throw new BurstletError('NOT_FOUND', `container ${container} of pod ${uid} is not running`);
    if (opts.tty && this.#o.runtime.executor.name !== 'burstlet') {
      throw new BurstletError('NOT_IMPLEMENTED', `exec with a TTY needs the burstlet runtime (this worker runs ${this.#o.runtime.executor.name})`);
    }
    const p = await this.#o.runtime.exec(id, command, { tty: opts.tty });
    const q = outputQueue();
    p.stdout.on('data', (d: Buffer) => q.push({ kind: 'stdout', dataBase64: d.toString('base64') }));
    p.stderr.on('data', (d: Buffer) => q.push({ kind: 'stderr', dataBase64: d.toString('base64') }));
    if (!opts.stdin) p.stdin.end();
    void p.exited.then((exitCode) => {
      q.push({ kind: 'exit', exitCode });
      q.end();
    });
    return {
      output: q.iterable,
      write: (data) => void p.stdin.write(data),
      closeStdin: () => p.stdin.end(),
      resize: (width, height) => p.resize?.(width, height), // without a TTY: nothing to resize
    };
  }

  list(): string[] {
    return [...this.#pods.keys(), ...this.#recovered];
  }

  async close(): Promise<void> {
    await Promise.all([...this.#pods.values()].map((lc) => lc.stop(0)));
  }
}
