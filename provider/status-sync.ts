/**
 * Worker PodEvents → `pods/status` and Events. Reads the events stream in the `provider`
 * consumer group in batches; within a batch only the highest-seq snapshot of each pod is
 * written (bursts coalesce), and only when it is newer than what was applied before (the
 * applied seq survives restarts in `keys.appliedSeq`) and changes something. Entries are
 * acknowledged after their write; a failed write leaves them pending, re-read next round.
 * Every note becomes a kubelet-style Event once per (pod, seq, index).
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Keys } from '../src/keys.ts';
import { EVENTS_GROUP } from '../src/keys.ts';
import { podEvent, type PodEvent } from '../src/schema/pod-event.ts';
import { parseEntry } from '../src/streams.ts';
import type { EventRecorder } from './events.ts';
import type { Kube, KubeObject } from './kube-client.ts';
import type { ProviderMetrics } from './metrics.ts';
import { isTerminalPhase, statusPatch } from './pod-status.ts';
import { writePodStatus } from './status-writer.ts';

export interface StatusSyncOptions {
  redis: Redis;
  keys: Keys;
  kube: Kube;
  events: EventRecorder;
  /** The pod as the informer last saw it, by UID (undefined: not on this node / gone). */
  pod(uid: string): KubeObject | undefined;
  /** The pool a pod was enqueued on (metrics label). */
  pool?(uid: string): string | undefined;
  /** Told after a snapshot was applied (the pod controller finishes deletions on it). */
  onApplied?(uid: string, event: PodEvent): void;
  consumer: string;
  log: Logger;
  metrics?: ProviderMetrics;
  blockMs?: number;
  batch?: number;
}

export class StatusSync {
  readonly #o: StatusSyncOptions;
  readonly #applied = new Map<string, number>();
  readonly #terminal = new Set<string>();
  readonly #started = new Set<string>();
  #stopped = false;
  #loop: Promise<void> | undefined;
  #retryPending = true;
  // XREADGROUP BLOCK holds its connection: it gets one of its own, never the shared one.
  #reader: Redis | undefined;

  constructor(options: StatusSyncOptions) {
    this.#o = options;
  }

  async start(): Promise<void> {
    const { redis, keys } = this.#o;
    try {
      await redis.xgroup('CREATE', keys.events, EVENTS_GROUP, '0', 'MKSTREAM');
    } catch (err) {
      if (!String(err).includes('BUSYGROUP')) throw err;
    }
    this.#reader = redis.duplicate();
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#loop;
    this.#reader?.disconnect();
  }

  /** Forgets a pod that is gone from the API server. */
  async forget(uid: string): Promise<void> {
    this.#applied.delete(uid);
    this.#terminal.delete(uid);
    this.#started.delete(uid);
    await this.#o.redis.hdel(this.#o.keys.appliedSeq, uid);
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      try {
        // Our own pending entries first (left by a crash or a failed write), then new ones.
        const n = this.#retryPending ? await this.readOnce('0') : 0;
        if (n === 0) {
          this.#retryPending = false;
          await this.readOnce('>');
        }
      } catch (err) {
        if (this.#stopped) break;
        this.#o.log.error({ err }, 'events stream read failed; retrying');
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  /** Reads and applies one batch; returns how many entries it saw. */
  async readOnce(from: '0' | '>'): Promise<number> {
    const o = this.#o;
    const block = from === '>' ? ['BLOCK', o.blockMs ?? 1000] : [];
    const res = (await (this.#reader ?? o.redis).xreadgroup('GROUP', EVENTS_GROUP, o.consumer, 'COUNT', o.batch ?? 200, ...(block as ['BLOCK', number]), 'STREAMS', o.keys.events, from)) as [string, [string, string[]][]][] | null;
    const entries = res?.[0]?.[1] ?? [];
    if (!entries.length) return 0;
    const byPod = new Map<string, { latest: PodEvent; all: PodEvent[]; ids: string[] }>();
    const ack: string[] = [];
    const ctx = { redis: o.redis, deadLetter: o.keys.deadLetter, log: o.log, source: o.keys.events };
    for (const [id, fields] of entries) {
      const e = await parseEntry(ctx, podEvent, id, fields);
      if (!e) {
        o.metrics?.deadLetters.inc({ source: 'events' });
        ack.push(id);
        continue;
      }
      const g = byPod.get(e.uid) ?? { latest: e, all: [], ids: [] };
      if (e.seq > g.latest.seq) g.latest = e;
      g.all.push(e);
      g.ids.push(id);
      byPod.set(e.uid, g);
    }
    await Promise.all([...byPod.values()].map(async (g) => {
      try {
        await this.#applyPod(g.latest, g.all);
        ack.push(...g.ids);
      } catch (err) {
        this.#retryPending = true;
        o.metrics?.eventsApplied.inc({ result: 'failed' });
        o.log.warn({ err, uid: g.latest.uid }, 'pod status write failed; the events stay pending');
      }
    }));
    if (ack.length) await o.redis.xack(o.keys.events, EVENTS_GROUP, ...ack);
    return entries.length;
  }

  async #applyPod(latest: PodEvent, all: PodEvent[]): Promise<void> {
    const o = this.#o;
    const uid = latest.uid;
    const pod = o.pod(uid);
    // Status first (what controllers wait for), then the notes as Events.
    await this.#applyStatus(pod, latest);
    const about: KubeObject = pod ?? { metadata: { namespace: latest.namespace, name: latest.name, uid }, spec: {} };
    for (const e of all) {
      for (const [i, note] of (e.notes ?? []).entries()) await o.events.record(about, note, `${uid}/${e.seq}/${i}`);
    }
  }

  async #applyStatus(pod: KubeObject | undefined, latest: PodEvent): Promise<void> {
    const o = this.#o;
    const uid = latest.uid;
    if (!pod) return void o.metrics?.eventsApplied.inc({ result: 'gone' });
    const applied = this.#applied.get(uid) ?? Number((await o.redis.hget(o.keys.appliedSeq, uid)) ?? 0);
    if (latest.seq <= applied) return void o.metrics?.eventsApplied.inc({ result: 'stale' });
    // The informer may lag behind our own terminal write: never leave a terminal phase.
    if (this.#terminal.has(uid) && !isTerminalPhase(latest.phase)) return void o.metrics?.eventsApplied.inc({ result: 'stale' });
    const patch = statusPatch(pod, latest);
    if (patch && (await writePodStatus(o.kube, pod, patch, o.metrics)) === 'gone') return void o.metrics?.eventsApplied.inc({ result: 'gone' });
    this.#applied.set(uid, latest.seq);
    await o.redis.hset(o.keys.appliedSeq, uid, latest.seq);
    if (isTerminalPhase(latest.phase)) this.#terminal.add(uid);
    this.#observeStart(pod, latest);
    o.metrics?.eventsApplied.inc({ result: patch ? 'applied' : 'unchanged' });
    o.onApplied?.(uid, latest);
  }

  // Pod creation → first Running snapshot (creation is when the user asked; enqueue follows within ms).
  #observeStart(pod: KubeObject, e: PodEvent): void {
    if (!this.#o.metrics || e.phase !== 'Running' || pod.status?.phase === 'Running' || this.#started.has(e.uid)) return;
    this.#started.add(e.uid);
    const created = Date.parse(pod.metadata.creationTimestamp ?? '');
    const pool = this.#o.pool?.(e.uid) ?? 'default';
    if (Number.isFinite(created)) this.#o.metrics.startLatency.observe({ pool }, Math.max(0, (e.at - created) / 1000));
  }
}
