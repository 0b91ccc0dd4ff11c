/**
 * UiSources backed by the Kubernetes API: the provider's pod cache, Events watched from the
 * API server, the Node object, and the pools' BullMQ queues. Works the same in cluster and
 * standalone mode (where the API server is the embedded one).
 */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Keys } from '../../src/keys.ts';
import { paths, type Kube, type KubeObject } from '../kube-client.ts';
import type { Logger } from '../../src/log.ts';
import { bytes, cpuMillis } from '../../src/quantity.ts';
import type { EventRecord, NodeSummary, PodObject, PodRecord, UiSources } from './sources.ts';

export interface KubeUiSourcesOptions {
  kube: Kube;
  nodeName: string;
  /** The provider's pod cache (informer). */
  listPods(): KubeObject[];
  queues: readonly Queue[];
  /** Where workers record which of them runs a pod (keys.podWorker). */
  redis: Redis;
  keys: Keys;
  log: Logger;
  /** How often the pod cache is checked for changes (default 300 ms). */
  pollMs?: number;
  /** Events kept per pod (default 50). */
  eventsPerPod?: number;
}

const TERMINAL = new Set(['Succeeded', 'Failed']);

export class KubeUiSources implements UiSources {
  readonly nodeName: string;
  readonly #o: KubeUiSourcesOptions;
  readonly #listeners = new Set<() => void>();
  readonly #events = new Map<string, EventRecord[]>();
  readonly #enqueuedAt = new Map<string, number>();
  readonly #runningAt = new Map<string, number>();
  readonly #worker = new Map<string, string>();
  #fingerprint = '';
  #timer: NodeJS.Timeout | undefined;
  #watch: { stop(): void } | undefined;
  #stopped = false;

  constructor(o: KubeUiSourcesOptions) {
    this.#o = o;
    this.nodeName = o.nodeName;
  }

  async start(): Promise<void> {
    await this.#watchEvents();
    this.#timer = setInterval(() => this.#poll(), this.#o.pollMs ?? 300);
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#watch?.stop();
  }

  async #watchEvents(): Promise<void> {
    if (this.#stopped) return;
    const onDone = () => {
      if (!this.#stopped) setTimeout(() => void this.#watchEvents().catch(() => {}), 1000);
    };
    try {
      this.#watch = await this.#o.kube.watch(paths.events('').replace('/namespaces//', '/'), {}, (e) => this.#onEvent(e.type, e.object), onDone);
    } catch (err) {
      this.#o.log.warn({ err }, 'ui: events watch failed; retrying');
      onDone();
    }
  }

  #onEvent(type: string, ev: KubeObject): void {
    if (type !== 'ADDED' && type !== 'MODIFIED') return;
    const uid = ev.involvedObject?.uid;
    if (ev.involvedObject?.kind !== 'Pod' || !uid) return;
    const list = this.#events.get(uid) ?? [];
    const at = Date.parse(ev.lastTimestamp ?? ev.eventTime ?? ev.metadata?.creationTimestamp ?? '') || Date.now();
    const record: EventRecord = { type: ev.type === 'Warning' ? 'Warning' : 'Normal', reason: String(ev.reason ?? ''), message: String(ev.message ?? ''), at, count: Number(ev.count ?? 1) };
    const same = list.findIndex((x) => x.reason === record.reason && x.message === record.message);
    if (same >= 0) list.splice(same, 1, { ...record, count: Math.max(record.count, list[same]!.count + (type === 'ADDED' ? 1 : 0)) });
    else list.push(record);
    list.sort((a, b) => a.at - b.at);
    this.#events.set(uid, list.slice(-(this.#o.eventsPerPod ?? 50)));
    this.#notify();
  }

  #poll(): void {
    const pods = this.#o.listPods();
    const fp = pods.map((p) => `${p.metadata?.uid}@${p.metadata?.resourceVersion}`).sort().join(',');
    if (fp === this.#fingerprint) return;
    this.#fingerprint = fp;
    const live = new Set<string>();
    for (const p of pods) {
      const uid = String(p.metadata?.uid);
      live.add(uid);
      if (p.status?.phase === 'Running' && !this.#runningAt.has(uid)) this.#runningAt.set(uid, Date.now());
      if (!this.#enqueuedAt.has(uid)) void this.#lookupEnqueued(uid);
      if (!this.#worker.has(uid)) void this.#lookupWorker(uid);
    }
    for (const m of [this.#events, this.#runningAt, this.#enqueuedAt, this.#worker]) for (const uid of m.keys()) if (!live.has(uid)) m.delete(uid);
    this.#notify();
  }

  // The BullMQ job (id = pod UID) knows when the provider enqueued the pod.
  async #lookupEnqueued(uid: string): Promise<void> {
    for (const q of this.#o.queues) {
      const job = await q.getJob(uid).catch(() => undefined);
      if (job) {
        this.#enqueuedAt.set(uid, job.timestamp);
        return;
      }
    }
  }

  async #lookupWorker(uid: string): Promise<void> {
    const id = await this.#o.redis.get(this.#o.keys.podWorker(uid)).catch(() => null);
    if (id) {
      this.#worker.set(uid, id);
      this.#notify();
    }
  }

  #notify(): void {
    for (const l of this.#listeners) l();
  }

  #record(p: KubeObject): PodRecord {
    const uid = String(p.metadata?.uid);
    return { pod: p as PodObject, events: this.#events.get(uid) ?? [], workerId: this.#worker.get(uid), enqueuedAt: this.#enqueuedAt.get(uid), runningAt: this.#runningAt.get(uid) };
  }

  pods(): readonly PodRecord[] {
    return this.#o.listPods().map((p) => this.#record(p));
  }

  pod(namespace: string, name: string): PodRecord | undefined {
    const p = this.#o.listPods().find((x) => x.metadata?.namespace === namespace && x.metadata?.name === name);
    return p && this.#record(p);
  }

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  queues(): readonly Queue[] {
    return this.#o.queues;
  }

  async node(): Promise<NodeSummary> {
    const node = await this.#o.kube.request('GET', paths.node(this.nodeName)).catch(() => undefined);
    const cap = node?.status?.allocatable ?? node?.status?.capacity ?? {};
    const allocated = { cpuMillis: 0, memoryBytes: 0, pods: 0 };
    for (const p of this.#o.listPods()) {
      if (TERMINAL.has(p.status?.phase)) continue;
      allocated.pods++;
      for (const c of p.spec?.containers ?? []) {
        const r = c.resources?.requests ?? {};
        if (r.cpu) allocated.cpuMillis += cpuMillis(r.cpu);
        if (r.memory) allocated.memoryBytes += bytes(r.memory);
      }
    }
    return {
      name: this.nodeName,
      conditions: (node?.status?.conditions ?? []).map((c: KubeObject) => ({ type: c.type, status: c.status, reason: c.reason, message: c.message })),
      capacity: { cpuMillis: cap.cpu ? cpuMillis(cap.cpu) : 0, memoryBytes: cap.memory ? bytes(cap.memory) : 0, pods: Number(cap.pods ?? 0) },
      allocated,
    };
  }
}
