// An in-memory UiSources for UI tests: pods are set by the test; the queues are real BullMQ
// queues on a real redis-server.
import type { Queue } from 'bullmq';
import type { NodeSummary, PodRecord, UiSources } from '../../../provider/ui/sources.ts';

export class MemorySources implements UiSources {
  readonly nodeName = 'burstlet-test';
  readonly #pods = new Map<string, PodRecord>();
  readonly #listeners = new Set<() => void>();
  readonly #queues: Queue[];

  constructor(queues: Queue[]) {
    this.#queues = queues;
  }

  set(record: PodRecord): void {
    this.#pods.set(`${record.pod.metadata.namespace}/${record.pod.metadata.name}`, record);
    for (const l of this.#listeners) l();
  }

  async node(): Promise<NodeSummary> {
    return { name: this.nodeName, conditions: [{ type: 'Ready', status: 'True' }], capacity: { cpuMillis: 2000, memoryBytes: 2 ** 31, pods: 10 }, allocated: { cpuMillis: 500, memoryBytes: 2 ** 28, pods: this.#pods.size } };
  }
  pods() {
    return [...this.#pods.values()];
  }
  pod(namespace: string, name: string) {
    return this.#pods.get(`${namespace}/${name}`);
  }
  subscribe(listener: () => void) {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }
  queues() {
    return this.#queues;
  }
}

export const pod = (name: string, phase: string, extra: Partial<PodRecord> = {}): PodRecord => ({
  pod: {
    metadata: { namespace: 'default', name, uid: `uid-${name}`, creationTimestamp: new Date().toISOString() },
    spec: { containers: [{ name: 'main', image: 'busybox' }] },
    status: { phase, containerStatuses: [{ name: 'main', ready: phase === 'Running', restartCount: 0, state: phase === 'Running' ? { running: {} } : { waiting: { reason: 'ContainerCreating' } } }] },
  },
  events: [{ type: 'Normal', reason: 'Scheduled', message: `queued ${name}`, at: Date.now(), count: 1 }],
  ...extra,
});
