/**
 * The seam between the worker host (queue consumer, registry, control stream) and the pod
 * runtime (sandbox, images, containers, lifecycle). The host owns Redis; the runner never
 * touches it and reports only through `PodReporter`.
 */
import type { PodJob } from '../src/schema/pod-job.ts';
import type { PodEvent } from '../src/schema/pod-event.ts';
import type { LogRecord, PodStats } from '../src/schema/streams.ts';
import type { ExecOutput } from '../src/schema/streams.ts';

/** A pod state snapshot without the fields the host fills in (seq, workerId, at). */
export type PodSnapshot = Omit<PodEvent, 'seq' | 'workerId' | 'at'>;

/** How a runner reports. Calls never block on Redis for long and never throw. */
export interface PodReporter {
  /** Publishes the pod's full current state (the host adds seq/workerId/at). */
  status(snapshot: PodSnapshot): void;
  /** One log line of a container. */
  log(container: string, record: LogRecord): void;
  /** Latest resource usage of the pod. */
  stats(stats: Omit<PodStats, 'workerId' | 'at'>): void;
}

/** Where one container continues from when its pod ran before on a worker that was lost. */
export interface CarriedContainer {
  /** The restart count the container shows from its next start on (and its first log attempt). */
  restartCount: number;
  /** A v1.ContainerState, as a worker published it: how the container's last run ended. */
  lastState?: Record<string, unknown>;
  /**
   * An app container of a restartPolicy OnFailure pod that had already succeeded: its
   * terminated state (exit code 0). It is not run again — the kubelet skips succeeded
   * containers under OnFailure when it recreates a pod's sandbox.
   */
  completed?: Record<string, unknown>;
}

/** What `run` may start from; absent fields mean a pod that never ran before. */
export interface RunOptions {
  /**
   * Per container name (init and app containers share one namespace of names in a pod):
   * the pod ran on a worker that was lost, and its containers continue from there.
   */
  carried?: Readonly<Record<string, CarriedContainer>>;
}

/** The result of a pod run, when it is over. */
export interface PodOutcome {
  phase: 'Succeeded' | 'Failed';
  reason?: string;
  message?: string;
}

export interface ExecSession {
  /** Output chunks and finally one `exit` record. */
  output: AsyncIterable<ExecOutput>;
  write(data: Buffer): void;
  closeStdin(): void;
  resize(width: number, height: number): void;
}

/**
 * Runs pods on this host. `run` resolves when the pod is terminal (never rejects: failures
 * are reported as a Failed outcome with a Kubernetes reason); its `options` count only on a
 * pod's first `run` (a later call joins the run already going, or adopts a recovered pod).
 * `stop` is idempotent and may be called before, during or after `run`; it resolves when
 * the pod's containers are gone.
 */
export interface PodRunner {
  run(job: PodJob, reporter: PodReporter, options?: RunOptions): Promise<PodOutcome>;
  stop(uid: string, gracePeriodSeconds: number): Promise<void>;
  exec(uid: string, container: string, command: string[], opts: { stdin: boolean; tty: boolean }): Promise<ExecSession>;
  /** Pods this runner still has (for re-adoption after a restart and for capacity). */
  list(): string[];
  /** Releases host resources (mounts, netns, cgroups) of everything it still runs. */
  close(): Promise<void>;
}
