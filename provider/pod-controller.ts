/**
 * The pod controller: for every pod the informer reports, one reconcile at a time per pod
 * (KeyedRunner). A new pod is translated into a PodJob and enqueued on its pool under
 * jobId = UID — never twice: the queue is asked first, so a provider restart re-adopts
 * existing jobs. Translation failures end as the kubelet would show them: a missing
 * configMap/secret → CreateContainerConfigError, retried with backoff; an unsupported
 * feature → Failed with the reason and an Event. Deletion is in pod-deletion.ts.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { asBurstletError, catalogue } from '../src/errors.ts';
import type { Keys } from '../src/keys.ts';
import type { PodEvent } from '../src/schema/pod-event.ts';
import { podRequests, type PodJob } from '../src/schema/pod-job.ts';
import { insufficient, type WorkerInfo } from '../src/schema/worker.ts';
import type { EventRecorder } from './events.ts';
import { KeyedRunner } from './keyed-runner.ts';
import type { Kube, KubeObject } from './kube-client.ts';
import type { ProviderMetrics } from './metrics.ts';
import { DELETION_SLACK_MS, deletionStep, sendStop, type DeletionContext } from './pod-deletion.ts';
import { allContainersTerminated, configErrorStatus, failedStatus, isTerminalPhase, waitingStatus } from './pod-status.ts';
import type { PodQueues } from './queue.ts';
import { writePodStatus } from './status-writer.ts';
import { translatePod } from './translate/pod-job.ts';
import type { Sources } from './translate/sources.ts';
import { fitReport } from './worker-pool.ts';

export interface PodControllerOptions {
  kube: Kube;
  redis: Redis;
  keys: Keys;
  queues: PodQueues;
  sources: Sources;
  events: EventRecorder;
  workers(): Promise<WorkerInfo[]>;
  log: Logger;
  metrics?: ProviderMetrics;
  /** First retry of a CreateContainerConfigError (doubles up to 5 min; default 10 s). */
  configRetryMs?: number;
  /** A deleting pod still running this long after its grace period is deleted anyway (default 15 s). */
  deletionSlackMs?: number;
  /** See DeletionContext.statusPending. */
  statusPending?(uid: string): boolean;
  /** Called when a pod is gone from the API server (status sync forgets it). */
  onGone?(uid: string): void;
  /**
   * Called when a pod has a job in a queue: right after its enqueue (translation's tokens are
   * the job's), or when one is found for it (start-up). Must not block.
   */
  onJob?(pod: KubeObject): void;
}

const MAX_RETRY_MS = 300_000;

export class PodController {
  readonly #o: PodControllerOptions;
  readonly #runner: KeyedRunner;
  readonly #pods = new Map<string, KubeObject>();
  readonly #gone = new Map<string, KubeObject>();
  readonly #pool = new Map<string, string>();
  readonly #stopSent = new Map<string, string>();
  readonly #terminated = new Set<string>();
  // Pods we deleted with grace 0: the informer's DELETED follows; no second DELETE meanwhile.
  readonly #deleted = new Set<string>();
  readonly #retryMs = new Map<string, number>();
  #pools: string[] | undefined;

  constructor(options: PodControllerOptions) {
    this.#o = options;
    this.#runner = new KeyedRunner((uid) => this.#reconcile(uid), (uid, err) => {
      options.log.warn({ err, uid }, 'pod reconcile failed; retrying');
      this.#runner.kickAfter(uid, 1000);
    });
  }

  /** Informer callback: a pod was added or changed. Never blocks. */
  upsert(pod: KubeObject): void {
    const uid = pod.metadata.uid;
    this.#pods.set(uid, pod);
    this.#runner.kick(uid);
  }

  /** Informer callback: a pod is gone from the API server. Never blocks. */
  remove(pod: KubeObject): void {
    const uid = pod.metadata.uid;
    this.#pods.delete(uid);
    this.#gone.set(uid, pod);
    this.#runner.kick(uid);
  }

  /** Status sync callback: a snapshot was written; a deleting pod may be finished now. */
  applied(uid: string, e: PodEvent): void {
    const statuses = e.containerStatuses ?? [];
    if (isTerminalPhase(e.phase) || (statuses.length > 0 && statuses.every((s) => (s.state as KubeObject | undefined)?.terminated))) this.#terminated.add(uid);
    if (this.#pods.get(uid)?.metadata.deletionTimestamp) this.#runner.kick(uid);
  }

  /** The pod by UID as last seen (status sync reads it). */
  pod(uid: string): KubeObject | undefined {
    return this.#pods.get(uid);
  }

  pool(uid: string): string | undefined {
    return this.#pool.get(uid);
  }

  /** Resolves when no reconcile is running (tests). */
  idle(): Promise<void> {
    return this.#runner.idle();
  }

  close(): Promise<void> {
    return this.#runner.close();
  }

  /** Pools with a queue; refreshed when a new pool is used. */
  async pools(): Promise<string[]> {
    this.#pools ??= await this.#o.queues.pools();
    return this.#pools.length ? this.#pools : ['default'];
  }

  async #reconcile(uid: string): Promise<void> {
    const pod = this.#pods.get(uid);
    if (!pod) return this.#cleanup(uid);
    if (pod.metadata.deletionTimestamp) return this.#deleting(pod);
    if (isTerminalPhase(pod.status?.phase) || this.#pool.has(uid)) return;
    const loc = await this.#o.queues.locate(uid, await this.pools());
    if (loc.state !== 'missing') {
      this.#pool.set(uid, loc.pool);
      if (loc.state !== 'completed' && loc.state !== 'failed') this.#o.onJob?.(pod);
      return;
    }
    // A started pod whose job vanished (Redis lost it) is not run a second time.
    if (pod.status?.phase && pod.status.phase !== 'Pending') {
      this.#o.log.warn({ uid, phase: pod.status.phase }, 'pod has no job but already ran; not enqueuing it again');
      return;
    }
    let job: PodJob;
    try {
      job = await translatePod(pod, this.#o.sources);
    } catch (err) {
      return this.#translateFailed(pod, err);
    }
    // A configuration error shown earlier is over: the pod now waits for a worker. Written
    // before the enqueue, so it can never overwrite what a worker reports.
    if ((pod.status?.containerStatuses ?? []).some((c: KubeObject) => c.state?.waiting?.reason === 'CreateContainerConfigError')) {
      await writePodStatus(this.#o.kube, pod, waitingStatus(pod, 'ContainerCreating'), this.#o.metrics);
    }
    await this.#o.queues.enqueue(job);
    this.#pool.set(uid, job.pool);
    this.#o.onJob?.(pod);
    if (!this.#pools?.includes(job.pool)) this.#pools = [...(this.#pools ?? []), job.pool];
    this.#retryMs.delete(uid);
    this.#o.log.debug({ uid, pool: job.pool, pod: `${job.namespace}/${job.name}` }, 'pod enqueued');
    await this.#reportFit(pod, job);
  }

  async #deleting(pod: KubeObject): Promise<void> {
    const uid = pod.metadata.uid;
    if (this.#deleted.has(uid)) return;
    const ctx: DeletionContext = { ...this.#o, pools: () => this.pools() };
    const slack = this.#o.deletionSlackMs ?? DELETION_SLACK_MS;
    const step = await deletionStep(ctx, pod, this.#terminated.has(uid) || allContainersTerminated(pod), this.#stopSent, slack);
    if (step === 'deleted') this.#deleted.add(uid);
    if (step === 'retry') this.#runner.kickAfter(uid, 250);
    // Look again when the grace period is over (a dead worker never reports), and now and
    // then meanwhile (the job may have moved to another worker).
    if (step === 'stopping') this.#runner.kickAfter(uid, Math.min(Math.max(Date.parse(pod.metadata.deletionTimestamp) + slack - Date.now() + 100, 100), 5000));
  }

  // The pod is gone from the API server: its job goes too (a running one is stopped at once).
  async #cleanup(uid: string): Promise<void> {
    this.#runner.cancel(uid);
    const loc = await this.#o.queues.locate(uid, await this.pools());
    if (loc.state === 'active' && !this.#terminated.has(uid) && !this.#stopSent.has(uid)) {
      if (!(await sendStop(this.#o, uid, 0, 'pod deleted from the API server'))) return this.#runner.kickAfter(uid, 250);
      this.#stopSent.set(uid, 'any');
    }
    if (loc.state !== 'missing' && loc.state !== 'active' && !(await this.#o.queues.remove(loc.pool, uid))) return this.#runner.kickAfter(uid, 250);
    if (loc.state === 'active') return this.#runner.kickAfter(uid, 1000);
    await this.#dropPodKeys(uid);
    for (const m of [this.#gone, this.#pool, this.#retryMs] as Map<string, unknown>[]) m.delete(uid);
    this.#stopSent.delete(uid);
    this.#terminated.delete(uid);
    this.#deleted.delete(uid);
    this.#o.onGone?.(uid);
  }

  // The pod's Redis state goes with it, as its logs go with a pod on a kubelet: the event
  // counter, the log streams, the worker that ran it and its carried container statuses
  // (those two have no TTL while a lost pod's job waits). Stats expire by themselves.
  async #dropPodKeys(uid: string): Promise<void> {
    const { redis, keys } = this.#o;
    const logKeys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', keys.logs(uid, '*'), 'COUNT', 200);
      cursor = next;
      logKeys.push(...batch);
    } while (cursor !== '0');
    await redis.del(keys.podSeq(uid), keys.podWorker(uid), keys.podStatuses(uid), ...logKeys);
  }

  async #translateFailed(pod: KubeObject, err: unknown): Promise<void> {
    const uid = pod.metadata.uid;
    const e = asBurstletError(err);
    const { kube, events, metrics } = this.#o;
    if (e.code === 'CONTAINER_CONFIG' || e.code === 'INTERNAL') {
      const delay = Math.min((this.#retryMs.get(uid) ?? (this.#o.configRetryMs ?? 10_000) / 2) * 2, MAX_RETRY_MS);
      this.#retryMs.set(uid, delay);
      this.#runner.kickAfter(uid, delay);
      if (e.code === 'INTERNAL') return void this.#o.log.warn({ err, uid }, 'pod translation failed; retrying');
      const waiting = pod.status?.containerStatuses?.[0]?.state?.waiting;
      if (waiting?.reason === 'CreateContainerConfigError' && waiting.message === e.message) return;
      await writePodStatus(kube, pod, configErrorStatus(pod, e.message), metrics);
      events.record(pod, { type: 'Warning', reason: 'Failed', message: `Error: ${e.message}` }, `${uid}/config/${e.message}`);
      return;
    }
    await writePodStatus(kube, pod, failedStatus(e.reason, e.message), metrics);
    events.record(pod, { type: 'Warning', reason: e.reason, message: e.message }, `${uid}/failed`);
  }

  // The queue keeps a pod no live worker fits (pools may scale); say so like the scheduler would.
  async #reportFit(pod: KubeObject, job: PodJob): Promise<void> {
    const request = podRequests(job);
    const report = fitReport(await this.#o.workers(), job.pool, request, (w) => insufficient(w, request));
    if (!report) return;
    const message = `${report} The pod waits in the queue of pool "${job.pool}".`;
    this.#o.events.record(pod, { type: 'Warning', reason: catalogue.INSUFFICIENT_RESOURCES.reason, message }, `${job.uid}/fit`);
  }

  /** Start-up reconciliation: jobs whose pod no longer exists are removed (or stopped). */
  async resync(): Promise<void> {
    const { queues, log } = this.#o;
    this.#pools = undefined;
    for (const pool of await this.pools()) {
      for (const uid of await queues.jobIds(pool)) {
        if (this.#pods.has(uid)) continue;
        log.info({ uid, pool }, 'job without a pod; cleaning it up');
        this.#gone.set(uid, { metadata: { uid } });
        this.#runner.kick(uid);
      }
    }
  }
}
