/**
 * Worker PodEvents → `pods/status` and Events, like the kubelet's status manager. A reader
 * takes the events stream in the `provider` consumer group and never waits for the API
 * server: each snapshot joins its pod's pending state (only the highest seq counts), and a
 * per-pod writer (one write in flight per pod) PATCHes it. The patch is built when the rate
 * limiter lets the write go, so snapshots arriving while a pod waits for its turn coalesce
 * into that one write. A snapshot is written only when it is newer than what was applied
 * before (the applied seq survives restarts in `keys.appliedSeq`) and changes something
 * (against the pod and our own last write, which the informer may not show yet). Entries are
 * acknowledged after their write; a failed write keeps them pending and is retried. Every note
 * becomes a kubelet-style Event once per (pod, seq, index), recorded without waiting.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Keys } from '../src/keys.ts';
import { EVENTS_GROUP } from '../src/keys.ts';
import { podEvent, type PodEvent } from '../src/schema/pod-event.ts';
import { parseEntry } from '../src/streams.ts';
import type { EventRecorder } from './events.ts';
import { KeyedRunner } from './keyed-runner.ts';
import type { Kube, KubeObject } from './kube-client.ts';
import type { ProviderMetrics } from './metrics.ts';
import { isTerminalPhase, statusPatch } from './pod-status.ts';
import { writePodStatus, type StatusPatch } from './status-writer.ts';

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

/** A pod's snapshots read but not yet written and acknowledged. */
interface Pending {
  latest: PodEvent;
  all: PodEvent[];
  ids: string[];
}

const RETRY_MS = 1000;

export class StatusSync {
  readonly #o: StatusSyncOptions;
  readonly #applied = new Map<string, number>();
  // Our last patch per pod and the pod's resourceVersion then: while the informer still shows
  // that version, it has not seen our write yet, and the same patch again would be a no-op.
  readonly #written = new Map<string, { patch: string; rv: string }>();
  readonly #terminal = new Set<string>();
  readonly #started = new Set<string>();
  readonly #pending = new Map<string, Pending>();
  readonly #writers: KeyedRunner;
  #stopped = false;
  #loop: Promise<void> | undefined;
  // XREADGROUP BLOCK holds its connection: it gets one of its own, never the shared one.
  #reader: Redis | undefined;

  constructor(options: StatusSyncOptions) {
    this.#o = options;
    this.#writers = new KeyedRunner((uid) => this.#flush(uid), (uid, err) => {
      options.log.warn({ err, uid }, 'pod status sync failed; retrying');
      this.#writers.kickAfter(uid, RETRY_MS);
    });
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

  /** Stops reading and waits for writes in flight; unwritten snapshots stay pending in Redis. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#loop;
    await this.#writers.close();
    this.#reader?.disconnect();
  }

  /** Resolves when nothing read is left unwritten (tests). */
  async idle(): Promise<void> {
    while (this.#pending.size) await new Promise((r) => setTimeout(r, 5));
    await this.#writers.idle();
  }

  /** True while snapshots of the pod have been read but not yet written (or given up). */
  pending(uid: string): boolean {
    return this.#pending.has(uid) || this.#writers.busy(uid);
  }

  /** Forgets a pod that is gone from the API server. */
  async forget(uid: string): Promise<void> {
    this.#applied.delete(uid);
    this.#written.delete(uid);
    this.#terminal.delete(uid);
    this.#started.delete(uid);
    await this.#o.redis.hdel(this.#o.keys.appliedSeq, uid);
  }

  async #run(): Promise<void> {
    // Our own pending entries first (left by a crash or a stop before their write), page by
    // page after the last id seen, then new ones.
    let from = '0';
    while (!this.#stopped) {
      try {
        if (from === '>') await this.readOnce('>');
        else from = (await this.readOnce(from)) ?? '>';
      } catch (err) {
        if (this.#stopped) break;
        this.#o.log.error({ err }, 'events stream read failed; retrying');
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  /**
   * Reads one batch — new entries ('>') or our pending ones after an id — and hands each pod's
   * snapshots to its writer; returns the last id read (undefined: none).
   */
  async readOnce(from: string): Promise<string | undefined> {
    const o = this.#o;
    const block = from === '>' ? ['BLOCK', o.blockMs ?? 1000] : [];
    const res = (await (this.#reader ?? o.redis).xreadgroup('GROUP', EVENTS_GROUP, o.consumer, 'COUNT', o.batch ?? 200, ...(block as ['BLOCK', number]), 'STREAMS', o.keys.events, from)) as [string, [string, string[]][]][] | null;
    const entries = res?.[0]?.[1] ?? [];
    const ctx = { redis: o.redis, deadLetter: o.keys.deadLetter, log: o.log, source: o.keys.events };
    const dead: string[] = [];
    for (const [id, fields] of entries) {
      const e = await parseEntry(ctx, podEvent, id, fields);
      if (!e) {
        o.metrics?.deadLetters.inc({ source: 'events' });
        dead.push(id);
        continue;
      }
      this.#add({ latest: e, all: [e], ids: [id] });
      this.#writers.kick(e.uid);
    }
    if (dead.length) await o.redis.xack(o.keys.events, EVENTS_GROUP, ...dead);
    return entries.at(-1)?.[0];
  }

  #add(g: Pending): void {
    const p = this.#pending.get(g.latest.uid);
    if (!p) return void this.#pending.set(g.latest.uid, g);
    if (g.latest.seq > p.latest.seq) p.latest = g.latest;
    p.all.push(...g.all);
    p.ids.push(...g.ids);
  }

  // The pod's writer: one status write for everything pending, then its acks and Events.
  async #flush(uid: string): Promise<void> {
    const o = this.#o;
    if (!this.#pending.has(uid)) return;
    if (!this.#applied.has(uid)) this.#applied.set(uid, Number((await o.redis.hget(o.keys.appliedSeq, uid)) ?? 0));
    // What this write covers: taken from the pending map when the patch is built, so that
    // snapshots coming in while the write waits for its turn join it.
    const taken: Pending = this.#pending.get(uid)!;
    this.#pending.delete(uid);
    const take = () => {
      const newer = this.#pending.get(uid);
      if (!newer) return;
      this.#pending.delete(uid);
      if (newer.latest.seq > taken.latest.seq) taken.latest = newer.latest;
      taken.all.push(...newer.all);
      taken.ids.push(...newer.ids);
    };
    let result: string;
    try {
      result = await this.#applyStatus(uid, taken, take);
    } catch (err) {
      take();
      this.#add(taken);
      o.metrics?.eventsApplied.inc({ result: 'failed' });
      o.log.warn({ err, uid }, 'pod status write failed; the events stay pending');
      return this.#writers.kickAfter(uid, RETRY_MS);
    }
    o.metrics?.eventsApplied.inc({ result });
    await o.redis.xack(o.keys.events, EVENTS_GROUP, ...taken.ids);
    const about: KubeObject = o.pod(uid) ?? { metadata: { namespace: taken.latest.namespace, name: taken.latest.name, uid }, spec: {} };
    for (const e of taken.all) {
      for (const [i, note] of (e.notes ?? []).entries()) o.events.record(about, note, `${uid}/${e.seq}/${i}`);
    }
  }

  // Writes the newest pending snapshot of the pod if it still changes something; returns the result label.
  async #applyStatus(uid: string, taken: Pending, take: () => void): Promise<string> {
    const o = this.#o;
    let pod = o.pod(uid);
    if (!pod) return 'gone';
    let patch: StatusPatch | undefined;
    let outcome = 'unchanged';
    // Evaluated when the write may go (and again on a 409 retry).
    const build = (): StatusPatch | undefined => {
      take();
      const latest = taken.latest;
      pod = o.pod(uid) ?? pod!;
      patch = undefined;
      if (latest.seq <= (this.#applied.get(uid) ?? 0)) return void (outcome = 'stale');
      // The informer may lag behind our own terminal write: never leave a terminal phase.
      if (this.#terminal.has(uid) && !isTerminalPhase(latest.phase)) return void (outcome = 'stale');
      patch = statusPatch(pod, latest);
      const last = this.#written.get(uid);
      if (patch && last && last.rv === pod.metadata.resourceVersion && last.patch === JSON.stringify(patch)) patch = undefined;
      outcome = patch ? 'applied' : 'unchanged';
      return patch;
    };
    const res = await writePodStatus(o.kube, pod, build, o.metrics);
    if (res === 'gone') return 'gone';
    if (outcome === 'stale') return outcome;
    const latest = taken.latest;
    if (patch) this.#written.set(uid, { patch: JSON.stringify(patch), rv: pod!.metadata.resourceVersion });
    this.#applied.set(uid, latest.seq);
    await o.redis.hset(o.keys.appliedSeq, uid, latest.seq);
    if (isTerminalPhase(latest.phase)) this.#terminal.add(uid);
    this.#observeStart(pod!, latest);
    o.onApplied?.(uid, latest);
    return outcome;
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
