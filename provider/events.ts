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
 *
 * Repeats are correlated as client-go's EventCorrelator does, so `kubectl describe` shows
 * "BackOff ... (x12 over 5m)" instead of a dozen Events: an Event identical to one written
 * before (same object, type, reason, message, source) PATCHes that Event's count and
 * lastTimestamp — or creates it again when it was deleted meanwhile. More than 10 different
 * messages for the same object, type and reason within 10 minutes are aggregated into one
 * Event "(combined from similar events): <latest message>". The caches are LRUs of 4096 keys
 * and start empty after a restart (so does client-go's).
 */
import { createHash } from 'node:crypto';
import { isAlreadyExists, isNotFound, paths, type Kube, type KubeObject } from './kube-client.ts';
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
const CACHE_KEYS = 4096;
/** client-go's defaultAggregateMaxEvents and defaultAggregateIntervalInSeconds. */
const AGGREGATE_MAX = 10;
const AGGREGATE_INTERVAL_MS = 600_000;
const COMBINED = '(combined from similar events): ';

/** Get with LRU touch; set evicts the least recently used key past `max`. */
class Lru<V> {
  readonly #m = new Map<string, V>();
  readonly max: number;
  constructor(max: number) {
    this.max = max;
  }
  get(k: string): V | undefined {
    const v = this.#m.get(k);
    if (v !== undefined) {
      this.#m.delete(k);
      this.#m.set(k, v);
    }
    return v;
  }
  set(k: string, v: V): void {
    this.#m.delete(k);
    this.#m.set(k, v);
    if (this.#m.size > this.max) this.#m.delete(this.#m.keys().next().value!);
  }
}

/** A written Event as the correlator remembers it. */
interface Seen { name: string; count: number; firstTimestamp: string }

type Write = { namespace: string; event: KubeObject; patch?: boolean };

export class ApiEventRecorder implements EventRecorder {
  readonly #kube: Kube;
  readonly #node: string;
  readonly #o: ApiEventRecorderOptions;
  readonly #queue: Write[] = [];
  /** Correlation key → the Event written for it (count so far). */
  readonly #seen = new Lru<Seen>(CACHE_KEYS);
  /** Aggregate key (object, type, reason) → the distinct messages seen and since when. */
  readonly #similar = new Lru<{ messages: Set<string>; since: number }>(CACHE_KEYS);
  /** The last write queued per Event (namespace/name), for ordering. */
  readonly #tails = new Map<string, Promise<void>>();
  /** Dedupe keys already recorded: a redelivered note is not a repeat. */
  readonly #notes = new Lru<true>(CACHE_KEYS);
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
    if (this.#notes.get(dedupeKey)) return; // the same note again (a redelivery): recorded already
    if (!this.#allowed(m.uid ?? `${m.namespace}/${m.name}`)) return this.#drop('spam');
    if (this.#queue.length >= (this.#o.maxQueued ?? 1000)) return this.#drop('queue_full');
    this.#notes.set(dedupeKey, true);
    this.#queue.push(this.#correlate(m.namespace, this.#event(pod, e, dedupeKey)));
    this.#pump();
  }

  // client-go's EventAggregator, then its EventLogger: the Event to write for `event`.
  #correlate(namespace: string, event: KubeObject): Write {
    const object = event.involvedObject;
    const base = JSON.stringify([event.source.component, event.source.host, object.kind, object.namespace, object.name,
      object.fieldPath ?? '', object.uid, object.apiVersion, event.type, event.reason, event.reportingComponent, event.reportingInstance]);
    const now = Date.now();
    let similar = this.#similar.get(base);
    if (!similar || now - similar.since > AGGREGATE_INTERVAL_MS) similar = { messages: new Set(), since: now };
    similar.messages.add(event.message);
    this.#similar.set(base, similar);
    let key = JSON.stringify([base, event.message]);
    if (similar.messages.size > AGGREGATE_MAX) {
      key = base; // every further similar message lands on one combined Event
      event = { ...event, message: `${COMBINED}${event.message}` };
    }
    const seen = this.#seen.get(key);
    if (!seen) {
      this.#seen.set(key, { name: event.metadata.name, count: 1, firstTimestamp: event.firstTimestamp });
      return { namespace, event };
    }
    seen.count++;
    return {
      namespace,
      patch: true,
      event: { ...event, metadata: { ...event.metadata, name: seen.name }, count: seen.count, firstTimestamp: seen.firstTimestamp },
    };
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
      const write = this.#queue.shift()!;
      this.#inFlight++;
      // Writes to one Event go in order (a later count must not be overwritten by an earlier one).
      const name = `${write.namespace}/${write.event.metadata.name}`;
      const done = (this.#tails.get(name) ?? Promise.resolve()).then(() => this.#write(write));
      const tail = done.catch(() => undefined);
      this.#tails.set(name, tail);
      void tail.then(() => this.#tails.get(name) === tail && this.#tails.delete(name));
      void done
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

  // A repeat PATCHes count, lastTimestamp and message (strategic merge, as client-go); an
  // Event deleted meanwhile (TTL, someone) is created again with the count so far.
  async #write({ namespace, event, patch }: Write): Promise<void> {
    const patchIt = () => this.#kube.request('PATCH', `${paths.events(namespace)}/${event.metadata.name}`, {
      body: { count: event.count, lastTimestamp: event.lastTimestamp, message: event.message }, patch: 'strategic', budget: 'event',
    });
    if (patch) {
      try {
        await patchIt();
        return;
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    try {
      await this.#kube.request('POST', paths.events(namespace), { body: event, budget: 'event' });
    } catch (err) {
      // The first write of this Event was still in flight when the repeat's PATCH found nothing.
      if (patch && isAlreadyExists(err)) await patchIt();
      else throw err;
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
