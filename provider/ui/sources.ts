/**
 * What the UI reads. The provider (cluster mode) and the standalone controller both
 * implement it; the UI never talks to Kubernetes or the workers itself, only to these and
 * to Redis (workers registry, queues, log streams).
 */
import type { Queue } from 'bullmq';

/** A Kubernetes Event as the UI shows it. */
export interface EventRecord {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  /** ms since epoch of the last occurrence. */
  at: number;
  count: number;
}

/** One pod as the UI sees it: the v1.Pod (read-only) plus what burstlet knows about it. */
export interface PodRecord {
  /** v1.Pod JSON (metadata, spec, status). Read-only: never mutate. */
  readonly pod: PodObject;
  readonly events: readonly EventRecord[];
  readonly workerId?: string;
  /** When the provider enqueued it and when it was first Running (ms since epoch). */
  readonly enqueuedAt?: number;
  readonly runningAt?: number;
}

export interface PodObject {
  metadata: { namespace: string; name: string; uid: string; creationTimestamp?: string; deletionTimestamp?: string; labels?: Record<string, string> };
  spec: { containers: { name: string; image: string }[]; initContainers?: { name: string; image: string }[]; nodeName?: string; [k: string]: unknown };
  status?: {
    phase?: string;
    reason?: string;
    message?: string;
    podIP?: string;
    startTime?: string;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
    containerStatuses?: ContainerStatusObject[];
    initContainerStatuses?: ContainerStatusObject[];
  };
}

export interface ContainerStatusObject {
  name: string;
  ready?: boolean;
  restartCount?: number;
  image?: string;
  state?: Record<string, Record<string, unknown> | undefined>;
  lastState?: Record<string, Record<string, unknown> | undefined>;
}

/** The virtual node as the UI shows it. */
export interface NodeSummary {
  name: string;
  conditions: { type: string; status: string; reason?: string; message?: string }[];
  capacity: { cpuMillis: number; memoryBytes: number; pods: number };
  allocated: { cpuMillis: number; memoryBytes: number; pods: number };
}

/**
 * The provider's view of its pods and node. `pods()` returns read-only records; `subscribe`
 * calls the listener (never blocking, possibly coalesced) after any change.
 */
export interface UiSources {
  readonly nodeName: string;
  node(): Promise<NodeSummary>;
  pods(): readonly PodRecord[];
  pod(namespace: string, name: string): PodRecord | undefined;
  subscribe(listener: () => void): () => void;
  /** The BullMQ queues of every pool this provider feeds. */
  queues(): readonly Queue[];
}
