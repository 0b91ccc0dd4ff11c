/**
 * Re-adoption after a restart. The runner keeps pods across a host restart (its state
 * directory); their BullMQ jobs are still `active`, locked with this host's id as token
 * (the id is stable, see worker-id.ts). So:
 *
 * - restarted within `lockDurationMs` of the last renewal: the lock still holds our token,
 *   `extendLock` succeeds and the pod is adopted — it keeps running and reporting, its job
 *   completes when it ends. Nothing runs twice.
 * - restarted later: the lock expired and the stalled check has handed (or will hand) the
 *   job to another host, so our copy is stopped. A restartable pod runs again there; a
 *   restartPolicy Never pod ends Failed/WorkerLost (its `keys.podWorker` still names us).
 * - the job is gone or finished (pod deleted meanwhile): the copy is stopped.
 */
import { Job, type Worker } from 'bullmq';
import type { Logger } from 'pino';
import type { PodRunner } from '../pod-runner.ts';

/** What re-adoption needs; `adopt` is called once per job whose lock is ours again. */
export interface ReadoptOptions {
  worker: Worker;
  runner: Pick<PodRunner, 'list' | 'stop'>;
  token: string;
  lockDurationMs: number;
  log: Logger;
  /** Takes over a job whose lock is ours again. */
  adopt(job: Job): Promise<void>;
}

/** Returns the uids adopted; stops every other pod the runner still holds. */
export async function readopt(o: ReadoptOptions): Promise<string[]> {
  const adopted: string[] = [];
  for (const uid of o.runner.list()) {
    const job = await Job.fromId(o.worker, uid);
    const state = job ? await job.getState() : 'missing';
    const locked = job && state === 'active' ? (await job.extendLock(o.token, o.lockDurationMs)) === 1 : false;
    if (job && locked) {
      o.log.info({ uid }, 're-adopted a running pod');
      await o.adopt(job);
      adopted.push(uid);
      continue;
    }
    o.log.warn({ uid, state }, 'pod found after restart but its job is no longer ours; stopping it');
    await o.runner.stop(uid, 0).catch((err) => o.log.error({ err, uid }, 'stop failed'));
  }
  return adopted;
}
