/**
 * Kubernetes Events about pods, in the kubelet's shape (source component `kubelet`, host =
 * node name, involvedObject with the container's fieldPath). Event names are derived from a
 * caller-given dedupe key, so recording the same note twice — after a redelivery or a
 * provider restart — is answered AlreadyExists and changes nothing.
 */
import { createHash } from 'node:crypto';
import { isAlreadyExists, paths, type Kube, type KubeObject } from './kube-client.ts';

export interface PodEventRecord {
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly message: string;
  readonly container?: string;
  /** ms since the epoch; defaults to now. */
  readonly at?: number;
}

/** Records Events; `record` never throws (an Event is best effort, as in the kubelet). */
export interface EventRecorder {
  record(pod: KubeObject, e: PodEventRecord, dedupeKey: string): Promise<void>;
}

export class ApiEventRecorder implements EventRecorder {
  readonly #kube: Kube;
  readonly #node: string;
  readonly #onError: (err: unknown) => void;

  constructor(kube: Kube, nodeName: string, onError: (err: unknown) => void = () => {}) {
    this.#kube = kube;
    this.#node = nodeName;
    this.#onError = onError;
  }

  async record(pod: KubeObject, e: PodEventRecord, dedupeKey: string): Promise<void> {
    const m = pod.metadata;
    const at = new Date(e.at ?? Date.now()).toISOString().replace(/\.\d+Z$/, 'Z');
    const isInit = (pod.spec?.initContainers ?? []).some((c: KubeObject) => c.name === e.container);
    const fieldPath = e.container ? `spec.${isInit ? 'initContainers' : 'containers'}{${e.container}}` : undefined;
    const event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: eventName(m.name, dedupeKey), namespace: m.namespace },
      involvedObject: { apiVersion: 'v1', kind: 'Pod', namespace: m.namespace, name: m.name, uid: m.uid, resourceVersion: m.resourceVersion, fieldPath },
      reason: e.reason,
      message: e.message,
      type: e.type,
      source: { component: 'kubelet', host: this.#node },
      reportingComponent: 'kubelet',
      reportingInstance: this.#node,
      firstTimestamp: at,
      lastTimestamp: at,
      count: 1,
    };
    try {
      await this.#kube.request('POST', paths.events(m.namespace), { body: event, event: true });
    } catch (err) {
      if (!isAlreadyExists(err)) this.#onError(err);
    }
  }
}

/** `<pod>.<hash of key>`: unique per key, stable across restarts, a valid object name. */
export function eventName(podName: string, dedupeKey: string): string {
  const hash = createHash('sha256').update(dedupeKey).digest('hex').slice(0, 16);
  return `${podName.slice(0, 253 - 17)}.${hash}`;
}
