/**
 * Keeps the projected service-account tokens of running pods fresh, like the kubelet's token
 * manager: each token is requested again (TokenRequest bound to the pod, through TokenCache)
 * at 80 % of its lifetime or after 24 h, and sent to the worker running the pod as a `token`
 * control message; the worker swaps the file in the pod's volume. A pod is tracked from the
 * moment it has a job (enqueued, or found in the queue at start-up) until it is terminal or
 * gone. After a provider restart the tokens handed out are unknown: they are refreshed at
 * once. A worker that takes a pod over (lost host, hand-back) starts from the PodJob, which
 * holds the first tokens: it is sent the current ones when its first PodEvent comes in.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Keys } from '../src/keys.ts';
import type { TokenRefresh } from '../src/schema/control.ts';
import type { PodEvent } from '../src/schema/pod-event.ts';
import { publish } from '../src/streams.ts';
import { KeyedRunner } from './keyed-runner.ts';
import type { KubeObject } from './kube-client.ts';
import { isTerminalPhase } from './pod-status.ts';
import type { TokenCache } from './translate/token-cache.ts';
import { tokenProjections, type TokenProjection } from './translate/volumes.ts';

export interface TokenRefresherOptions {
  tokens: Pick<TokenCache, 'get' | 'peek'>;
  redis: Redis;
  keys: Keys;
  log: Logger;
  /** The pod as last seen by the informer (undefined: gone). */
  pod(uid: string): KubeObject | undefined;
  /** Wait after a failed refresh or delivery (default 10 s). */
  retryMs?: number;
  now?: () => number;
}

interface Tracked {
  readonly projections: readonly TokenProjection[];
  /** The tokens in the pod's PodJob (undefined: not known, the job predates this process). */
  readonly inJob: ReadonlySet<string> | undefined;
  /** The worker known to hold the current tokens. */
  worker?: string;
  /** The phase last reported: Pending after anything else is a new run, from the PodJob. */
  phase?: string;
  /** A worker reported a new run: it may hold the PodJob's tokens only. */
  recheck?: boolean;
}

const RETRY_MS = 10_000;

export class TokenRefresher {
  readonly #o: TokenRefresherOptions;
  readonly #now: () => number;
  readonly #runner: KeyedRunner;
  readonly #pods = new Map<string, Tracked>();

  constructor(options: TokenRefresherOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#runner = new KeyedRunner((uid) => this.#refresh(uid), (uid, err) => {
      options.log.warn({ err, uid }, 'service-account token refresh failed; retrying');
      if (this.#pods.has(uid)) this.#runner.kickAfter(uid, options.retryMs ?? RETRY_MS);
    });
  }

  /**
   * The pod has a job (just enqueued, or found in the queue): its tokens are refreshed from
   * now on. Idempotent; call it right after translation so the tokens in the job are known.
   * Never blocks.
   */
  track(pod: KubeObject): void {
    const uid: string = pod.metadata.uid;
    if (this.#pods.has(uid) || isTerminalPhase(pod.status?.phase)) return;
    const projections = tokenProjections(pod);
    if (!projections.length) return;
    const held = projections.map((p) => this.#o.tokens.peek(pod, p.audience, p.expirationSeconds));
    const inJob = held.every((e) => e) ? new Set(held.map((e) => e!.token.token)) : undefined;
    this.#pods.set(uid, { projections, inJob });
    this.#schedule(uid, pod);
  }

  /**
   * Status sync callback: a worker reported the pod. A run that starts from the PodJob (a new
   * worker, or a Pending pod) may need the current tokens. Never blocks.
   */
  observed(uid: string, e: PodEvent): void {
    if (isTerminalPhase(e.phase)) return this.forget(uid);
    const t = this.#pods.get(uid);
    if (!t) return;
    const newRun = t.worker !== e.workerId || (e.phase === 'Pending' && t.phase !== 'Pending');
    t.phase = e.phase;
    if (!newRun) return;
    // The common case, a pod's first run: its PodJob holds the current tokens.
    const pod = this.#o.pod(uid);
    if (pod && this.#jobIsCurrent(t, pod)) return void (t.worker = e.workerId);
    t.recheck = true;
    this.#runner.kick(uid);
  }

  /** The pod ended or is gone: no more refreshes. Idempotent. */
  forget(uid: string): void {
    this.#pods.delete(uid);
    this.#runner.cancel(uid);
  }

  /** Pods whose tokens are kept fresh (tests, metrics). */
  tracked(): string[] {
    return [...this.#pods.keys()];
  }

  close(): Promise<void> {
    return this.#runner.close();
  }

  async #refresh(uid: string): Promise<void> {
    const t = this.#pods.get(uid);
    if (!t) return;
    const pod = this.#o.pod(uid);
    if (!pod || isTerminalPhase(pod.status?.phase)) return this.forget(uid);
    const { tokens, redis, keys, log } = this.#o;
    const recheck = t.recheck === true;
    t.recheck = false;
    const worker = (await redis.get(keys.podWorker(uid))) ?? undefined;
    if (this.#pods.get(uid) !== t) return;
    // Queued or handed back: no one to give a token to, and a pod may wait long. The first
    // worker to report it gets fresh ones (observed).
    if (!worker) return void (t.worker = undefined);
    // A run from the PodJob (new worker, restarted pod) needs every token the job lacks.
    const fromJob = recheck || worker !== t.worker;
    const send = new Set(fromJob ? t.projections.filter((p) => !t.inJob?.has(tokens.peek(pod, p.audience, p.expirationSeconds)?.token.token ?? '')) : []);
    for (const p of t.projections) {
      const held = tokens.peek(pod, p.audience, p.expirationSeconds);
      if (held && this.#now() < held.refreshAt) continue;
      // Past 90 % of its lifetime (a backlog, a long outage): ahead of new pods' requests.
      const late = held !== undefined && this.#now() >= (held.refreshAt + held.token.expiresAt) / 2;
      await tokens.get(pod, p.audience, p.expirationSeconds, late ? 'final' : 'default');
      send.add(p);
    }
    if (this.#pods.get(uid) !== t) return;
    for (const p of send) {
      const e = tokens.peek(pod, p.audience, p.expirationSeconds)!;
      const msg: TokenRefresh = { kind: 'token', uid, volume: p.volume, path: p.path, token: e.token.token, expiresAt: e.token.expiresAt };
      await publish(redis, keys.control(worker), msg);
    }
    if (send.size) log.info({ uid, worker, tokens: send.size }, 'service-account tokens sent to the worker');
    t.worker = worker;
    this.#schedule(uid, pod);
  }

  // True when the PodJob's tokens are the ones held and none is due: a run from the job is current.
  #jobIsCurrent(t: Tracked, pod: KubeObject): boolean {
    if (!t.inJob || this.#now() >= this.#due(t, pod)) return false;
    return t.projections.every((p) => t.inJob!.has(this.#o.tokens.peek(pod, p.audience, p.expirationSeconds)?.token.token ?? ''));
  }

  // When the first of the pod's tokens is due for a refresh (0: one is not known).
  #due(t: Tracked, pod: KubeObject): number {
    let due = Infinity;
    for (const p of t.projections) due = Math.min(due, this.#o.tokens.peek(pod, p.audience, p.expirationSeconds)?.refreshAt ?? 0);
    return due;
  }

  #schedule(uid: string, pod: KubeObject): void {
    const t = this.#pods.get(uid);
    if (t) this.#runner.kickAfter(uid, Math.max(0, this.#due(t, pod) - this.#now()));
  }
}
