/**
 * What a ContainerRunner needs from its pod: the job, the runtime, timings, the sandbox, a
 * way to report (notes, status changes, log records) and to wait while the pod may stop.
 */
import type { PodEventNote } from '../../src/schema/pod-event.ts';
import type { ContainerSpec, PodJob } from '../../src/schema/pod-job.ts';
import type { LogRecord } from '../../src/schema/streams.ts';
import type { BackoffTiming } from './backoff.ts';
import type { ImageInfo } from './image-source.ts';
import type { RuntimeService } from './runtime-service.ts';
import type { SandboxInfo } from './sandbox.ts';

export interface LifecycleTiming {
  /** CrashLoopBackOff (kubelet: 10 s doubling to 5 min, reset after 10 min). */
  backoff: BackoffTiming;
  /** Image pull back-off between retries of a retryable pull failure. */
  pullBackoff: BackoffTiming;
  /** How often running containers' usage is sampled and reported. */
  statsIntervalMs: number;
}

export interface PodContext {
  readonly job: PodJob;
  readonly runtime: RuntimeService;
  readonly timing: LifecycleTiming;
  /** `name_namespace(uid)` for messages. */
  readonly podLabel: string;
  sandbox(): SandboxInfo | undefined;
  /** The container's image, pulled already (by the pod's pull step). */
  image(spec: ContainerSpec): Promise<ImageInfo>;
  stopping(): boolean;
  /** Waits `ms`, or less when the pod starts stopping. */
  sleep(ms: number): Promise<void>;
  note(type: PodEventNote['type'], reason: string, message: string, container?: string): void;
  /** Something visible changed: publish a snapshot. */
  changed(): void;
  log(container: string, record: LogRecord): void;
}
