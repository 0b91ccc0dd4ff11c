/**
 * Kubernetes Events about pods, in the kubelet's shape (source component `kubelet`, host =
 * node name, involvedObject with the container's fieldPath). Event names are derived from a
 * caller-given dedupe key, so recording the same note twice — after a redelivery or a
 * provider restart — is answered AlreadyExists and changes nothing.
 *
 * Recording never waits for the API server, as with client-go's event broadcaster: an Event
 * joins a bounded queue (1000, client-go's maxQueuedEvents) that a writer drains through the
 * client's own Event budget (the kubelet's eventRecordQPS/eventBurst); a full queue drops the
 * Event. A pod that spams is cut off like client-go's spam filter does (25 per object, then
 * one per 5 minutes). Pod status writes therefore never queue behind Events.
 */
import { createHash } from 'node:crypto';
import { isAlreadyExists, paths, type Kube, type KubeObject } from './kube-client.ts';
import type { ProviderMetrics } from './metrics.ts';
import { TokenBucket } from './token-bucket.ts';

export interface PodEventRecord {
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly message: string;
  readonly container?: string;
  /** ms since the epoch; defaults to now. */
  readonly at?: number;
}

/** Records Events; `record` never blocks and never throws (best effort, as in the kubelet). */
export interface EventRecorder {
  record(pod: KubeObject, e: PodEventRecord, dedupeKey: string): void;
}

export interface ApiEventRecorderOptions {
  /** Events waiting to be written; more are dropped (default 1000). */
  maxQueued?: number;
  /** Writes in flight at once (default 8); the Event budget paces them. */
  concurrency?: number;
  /** Per involved object: this many Events, then one per `spamRefillMs` (default 25, 5 min). */
  spamBurst?: number;
  spamRefillMs?: number;
  onError?(err: unknown): void;
  metrics?: Pick<ProviderMetrics, 'eventsDropped'>;
}

const SPAM_KEYS = 4096;

export class ApiEventRecorder implements EventRecorder {
  readonly #kube: Kube;
  readonly #node: string;
  readonly #o: ApiEventRecorderOptions;
  readonly #queue: { namespace: string; event: KubeObject }[] = [];
  // An LRU of per-object buckets (Map keeps insertion order; a hit moves the key to the end).
  readonly #spam = new Map<string, TokenBucket>();
  #inFlight = 0;
  #idle: (() => void)[] = [];
  #closed = false;

  constructor(kube: Kube, nodeName: string, options: ApiEventRecorderOptions = {}) {
    this.#kube = kube;
    this.#node = nodeName;
    this.#o = options;
  }

  record(pod: KubeObject, e: PodEventRecord, dedupeKey: string): void {
    if (this.#closed) return;
    const m = pod.metadata;
    if (!this.#allowed(m.uid ?? `${m.namespace}/${m.name}`)) return this.#drop('spam');
    if (this.#queue.length >= (this.#o.maxQueued ?? 1000)) return this.#drop('queue_full');
    this.#queue.push({ namespace: m.namespace, event: this.#event(pod, e, dedupeKey) });
    this.#pump();
  }

  /** Resolves when every queued Event has been written (or has failed). */
  flush(): Promise<void> {
    if (!this.#queue.length && !this.#inFlight) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Stops accepting Events; waits up to `waitMs` for the queue to drain, then drops the rest. */
  async close(waitMs = 2000): Promise<void> {
    this.#closed = true;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.flush(), new Promise<void>((r) => (timer = setTimeout(r, waitMs)))]);
    clearTimeout(timer);
    for (let n = this.#queue.splice(0).length; n > 0; n--) this.#drop('shutdown');
  }

  #event(pod: KubeObject, e: PodEventRecord, dedupeKey: string): KubeObject {
    const m = pod.metadata;
    const at = new Date(e.at ?? Date.now()).toISOString().replace(/\.\d+Z$/, 'Z');
    const isInit = (pod.spec?.initContainers ?? []).some((c: KubeObject) => c.name === e.container);
    const fieldPath = e.container ? `spec.${isInit ? 'initContainers' : 'containers'}{${e.container}}` : undefined;
    return {
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
  }

  // Starts writers up to the concurrency limit; each takes the next queued Event.
  #pump(): void {
    while (this.#inFlight < (this.#o.concurrency ?? 8) && this.#queue.length) {
      const { namespace, event } = this.#queue.shift()!;
      this.#inFlight++;
      void this.#kube.request('POST', paths.events(namespace), { body: event, budget: 'event' })
        .catch((err) => {
          if (!isAlreadyExists(err)) this.#o.onError?.(err);
        })
        .finally(() => {
          this.#inFlight--;
          this.#pump();
          if (!this.#inFlight && !this.#queue.length) for (const resolve of this.#idle.splice(0)) resolve();
        });
    }
  }

  #allowed(key: string): boolean {
    let bucket = this.#spam.get(key);
    if (bucket) this.#spam.delete(key);
    else bucket = new TokenBucket(1000 / (this.#o.spamRefillMs ?? 300_000), this.#o.spamBurst ?? 25);
    this.#spam.set(key, bucket);
    if (this.#spam.size > SPAM_KEYS) this.#spam.delete(this.#spam.keys().next().value!);
    return bucket.tryTake();
  }

  #drop(reason: string): void {
    this.#o.metrics?.eventsDropped.inc({ reason });
  }
}

/** `<pod>.<hash of key>`: unique per key, stable across restarts, a valid object name. */
export function eventName(podName: string, dedupeKey: string): string {
  const hash = createHash('sha256').update(dedupeKey).digest('hex').slice(0, 16);
  return `${podName.slice(0, 253 - 17)}.${hash}`;
}
