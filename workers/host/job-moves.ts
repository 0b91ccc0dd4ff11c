/**
 * The moves a host makes on a claimed BullMQ job (manual processing: the host holds the
 * job's lock with its worker id as token). Each one is a single BullMQ call plus the pod
 * keys it implies.
 *
 * Why `moveToDelayed` to hand back a job that does not fit: it releases the lock, leaves
 * `attemptsMade`, data and options untouched (BullMQ calls it with skipAttempt) and takes
 * the job out of the wait list for `handbackDelayMs`, so neither this host nor another one
 * spins on it, and smaller jobs queued behind it are claimed meanwhile (no head-of-line
 * blocking). `moveToWait` would RPUSH it back at the head of the list: the next fetch —
 * most likely ours — returns the same job at once, a hot loop. `moveToWait` is right when
 * the host will not fetch again (shutdown), so another host gets the job immediately.
 * Neither needs `DelayedError`/`WaitingError`: those tell BullMQ's processor loop that the
 * job was already moved, and this host does not use that loop.
 */
import { Job, UnrecoverableError, type JobJson, type Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Keys } from '../../src/keys.ts';
import type { JobProgress } from '../../src/schema/job-progress.ts';
import type { PodStatuses } from '../../src/schema/pod-event.ts';
import type { PodOutcome } from '../pod-runner.ts';
import { parseStatuses } from './lost-pod.ts';

/** How long `keys.podWorker(uid)` and `keys.podStatuses(uid)` outlive a completed pod (the provider may still ask). */
export const POD_WORKER_TTL_SECONDS = 24 * 3600;

/** The Redis side of every move; the token is the worker id. */
export interface MoveContext {
  redis: Redis;
  keys: Keys;
  workerId: string;
  /** `<prefix>:<queue>`, the dead-letter `source` of a malformed job. */
  queueKey: string;
}

const progress = (ctx: MoveContext, state: JobProgress['state'], extra: Partial<JobProgress> = {}): JobProgress => ({
  state, workerId: ctx.workerId, at: Date.now(), ...extra,
});

/** A job that does not fit: record why on the job, then let it wait `delayMs` in the delayed set. */
export async function handBackUnfit(ctx: MoveContext, job: Job, reason: string, message: string, delayMs: number): Promise<void> {
  await job.updateProgress(progress(ctx, 'unschedulable', { reason, message }));
  await job.moveToDelayed(Date.now() + delayMs, ctx.workerId);
}

/** A job this host cannot take yet for a reason of its own: offered again after `delayMs`. */
export async function retryLater(ctx: MoveContext, job: Job, delayMs: number): Promise<void> {
  await job.moveToDelayed(Date.now() + delayMs, ctx.workerId);
}

/** A job claimed while shutting down: straight back to the head of the wait list. */
export async function giveBack(ctx: MoveContext, job: Job): Promise<void> {
  await job.moveToWait(ctx.workerId);
}

/**
 * A pod stopped by a `handback` shutdown: forget who ran it and what its containers showed
 * (a clean return, not a loss: the next host starts it afresh) and requeue.
 */
export async function returnToQueue(ctx: MoveContext, job: Job): Promise<void> {
  await ctx.redis.del(ctx.keys.podWorker(job.id!), ctx.keys.podStatuses(job.id!));
  await job.updateProgress(progress(ctx, 'handed-back', { reason: 'Rescheduled' }));
  await job.moveToWait(ctx.workerId);
}

/** Who had a pod before this host claimed it, and what its containers last showed. */
export interface PreviousRun {
  /** The worker that had the pod (null for a pod that never ran, or was handed back cleanly). */
  worker: string | null;
  /** The container statuses that worker last published, if any are stored and valid. */
  statuses: PodStatuses | undefined;
}

// KEYS[1] the pod's worker key, KEYS[2] its statuses key; ARGV[1] this worker's id. Returns
// the previous worker and the statuses it left (nil for none). One script call: a MULTI with
// SET and GET took four commands of the worker's main thread for every pod.
const CLAIM_POD = `
local previous = redis.call('SET', KEYS[1], ARGV[1], 'GET')
return {previous, redis.call('GET', KEYS[2])}`;

type ClaimRedis = Redis & { claimPod(workerKey: string, statusesKey: string, workerId: string): Promise<[string | null, string | null]> };

/**
 * Marks the pod as ours before it runs, so `stop` messages find this host, and reads what
 * the previous worker left, atomically (one Lua call): from the SET on, that worker's
 * reporter can no longer write the statuses (see reporter.ts), so what is read is its last
 * word.
 */
export async function markRunning(ctx: MoveContext, job: Job): Promise<PreviousRun> {
  const redis = ctx.redis as ClaimRedis;
  if (typeof redis.claimPod !== 'function') redis.defineCommand('claimPod', { numberOfKeys: 2, lua: CLAIM_POD });
  const [previous, statuses] = await redis.claimPod(ctx.keys.podWorker(job.id!), ctx.keys.podStatuses(job.id!), ctx.workerId);
  // Only a job that carries an older word (unschedulable, handed back) needs it replaced;
  // informational, so a failure must not keep the pod from running.
  if (job.progress && typeof job.progress === 'object') job.updateProgress(progress(ctx, 'running')).catch(() => undefined);
  return { worker: previous, statuses: parseStatuses(statuses) };
}

/** What `complete` did besides completing. */
export interface Completed {
  /** With `fetchFor`: the next job, moved to active under this host's lock by the same call. */
  next?: Job;
  /** Setting the pod keys' TTL failed (the job is completed all the same). */
  keysError?: Error;
}

/**
 * The pod is terminal: complete the job with its outcome, and with `fetchFor` (the host's
 * BullMQ worker) take the next waiting job in the same call (BullMQ's manual-processing
 * pattern). Throws only if the completion failed (the lock is gone): once it is done, nothing
 * is to be done again.
 */
export async function complete(ctx: MoveContext, job: Job, outcome: PodOutcome, fetchFor?: Worker): Promise<Completed> {
  const raw = await job.moveToCompleted(outcome, ctx.workerId, fetchFor !== undefined);
  const [data, id] = Array.isArray(raw) ? raw as [JobJson | null | undefined, string | undefined] : [];
  const done: Completed = fetchFor && data && id ? { next: Job.fromJSON(fetchFor, data, id) } : {};
  try {
    await Promise.all([
      ctx.redis.expire(ctx.keys.podWorker(job.id!), POD_WORKER_TTL_SECONDS),
      ctx.redis.expire(ctx.keys.podStatuses(job.id!), POD_WORKER_TTL_SECONDS),
    ]);
  } catch (err) {
    done.keysError = err as Error;
  }
  return done;
}

/**
 * A job whose data is not a valid PodJob: dead-letter it with the fields `parseEntry` uses
 * and fail it with an UnrecoverableError (never retried).
 */
export async function rejectMalformed(ctx: MoveContext, job: Job, error: string): Promise<void> {
  const payload = JSON.stringify(job.data) ?? 'undefined';
  await ctx.redis.xadd(ctx.keys.deadLetter, '*', 'source', ctx.queueKey, 'id', String(job.id), 'error', error, 'payload', payload);
  await job.moveToFailed(new UnrecoverableError(`malformed PodJob: ${error}`), ctx.workerId, false);
}
