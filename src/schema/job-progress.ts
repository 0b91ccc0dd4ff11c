/**
 * What a worker records on a pod's BullMQ job (`job.progress`, set with `updateProgress`, so
 * it is one value that is overwritten, never a growing log). The provider reads it with
 * `Job.fromId(queue, uid)` or from QueueEvents `progress` to explain a pod that stays
 * queued ("0/1 workers: Insufficient cpu"), the way the scheduler's FailedScheduling does.
 */
import { integer, literal, object, optional, string, type Infer } from './validate.ts';

export const jobProgress = object({
  /**
   * unschedulable: a worker claimed the job, it did not fit and went back to the queue;
   * running: a worker runs the pod; handed-back: a worker shut down and returned the job.
   */
  state: literal('unschedulable', 'running', 'handed-back'),
  workerId: string({ min: 1 }),
  at: integer({ min: 0 }),
  /** Scheduler wording: "Insufficient cpu", "Insufficient memory", "Too many pods". */
  reason: optional(string()),
  message: optional(string()),
});

export type JobProgress = Infer<typeof jobProgress>;
