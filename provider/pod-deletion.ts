/**
 * Graceful deletion the kubelet way. A pod with deletionTimestamp: a job still queued is
 * removed and the pod deleted at once; a running one is told to stop (control stream of the
 * worker holding it, with the pod's grace period) and deleted with grace 0 and a UID
 * precondition as soon as all its containers have terminated — not when the grace ends.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Keys } from '../src/keys.ts';
import type { StopPod } from '../src/schema/control.ts';
import { publish } from '../src/streams.ts';
import { isConflict, isNotFound, paths, type Kube, type KubeObject } from './kube-client.ts';
import type { PodQueues } from './queue.ts';

export interface DeletionContext {
  kube: Kube;
  redis: Redis;
  keys: Keys;
  queues: PodQueues;
  log: Logger;
  pools(): Promise<string[]>;
  /** True while status sync holds snapshots of the pod not yet written (its final status). */
  statusPending?(uid: string): boolean;
}

/** What the deletion step decided; 'retry' asks the caller to look again soon. */
export type DeletionStep = 'deleted' | 'stopping' | 'retry';

/** A worker that does not finish within the grace period plus this is presumed gone. */
export const DELETION_SLACK_MS = 15_000;

/**
 * One step of a pod's graceful deletion; idempotent, called again on every change.
 * `stopSent` maps UID → the worker told to stop (a job re-claimed elsewhere is told again).
 */
export async function deletionStep(ctx: DeletionContext, pod: KubeObject, terminated: boolean, stopSent: Map<string, string>, slackMs = DELETION_SLACK_MS, now = Date.now()): Promise<DeletionStep> {
  const uid: string = pod.metadata.uid;
  const loc = await ctx.queues.locate(uid, await ctx.pools());
  // deletionTimestamp is set to the time the grace period ends.
  const overdue = now > Date.parse(pod.metadata.deletionTimestamp) + slackMs;
  if (loc.state === 'active' && !terminated && !overdue) {
    const worker = await ctx.redis.get(ctx.keys.podWorker(uid));
    if (!worker) return 'retry';
    if (stopSent.get(uid) === worker) return 'stopping';
    const grace = pod.metadata.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
    await sendStop(ctx, uid, grace, 'pod deleted');
    stopSent.set(uid, worker);
    return 'stopping';
  }
  // The worker is done, but its last snapshot is still being written: the terminal status
  // goes first (controllers such as Job read the phase), like the kubelet's status manager.
  if (!overdue && ctx.statusPending?.(uid)) return 'retry';
  if (overdue && !terminated) ctx.log.warn({ uid }, 'pod did not terminate within its grace period; deleting it anyway');
  if (loc.state !== 'missing' && loc.state !== 'completed' && loc.state !== 'failed' && loc.state !== 'active') {
    // Still queued: take it out before any worker claims it; if one just did, stop it instead.
    if (!(await ctx.queues.remove(loc.pool, uid))) return 'retry';
  }
  await deletePodNow(ctx.kube, pod);
  return 'deleted';
}

/** Sends `stop` to the worker running the pod; false when no worker has claimed it yet. */
export async function sendStop(ctx: Pick<DeletionContext, 'redis' | 'keys' | 'log'>, uid: string, gracePeriodSeconds: number, reason: string): Promise<boolean> {
  const worker = await ctx.redis.get(ctx.keys.podWorker(uid));
  if (!worker) return false;
  const msg: StopPod = { kind: 'stop', uid, gracePeriodSeconds, reason };
  await publish(ctx.redis, ctx.keys.control(worker), msg);
  ctx.log.info({ uid, worker, gracePeriodSeconds }, 'stop sent to worker');
  return true;
}

/** DELETE with grace 0 and a UID precondition; a pod already gone or replaced is fine. */
export async function deletePodNow(kube: Kube, pod: KubeObject): Promise<void> {
  const { namespace, name, uid } = pod.metadata;
  try {
    await kube.request('DELETE', paths.pod(namespace, name), {
      body: { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0, preconditions: { uid } },
      // The pod's last request: ahead of status writes and reads (pods/s of deletion).
      budget: 'final',
    });
  } catch (err) {
    if (!isNotFound(err) && !isConflict(err)) throw err;
  }
}
