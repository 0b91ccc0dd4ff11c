/**
 * PodEvent: a worker's snapshot of one pod's state with a per-pod monotonic sequence.
 * Snapshots, not deltas: the provider applies the one with the highest `seq` it has seen
 * and ignores older or repeated ones, so at-least-once delivery changes nothing.
 */
import { anyObject, array, integer, literal, object, optional, string, type Infer } from './validate.ts';

export const podPhase = literal('Pending', 'Running', 'Succeeded', 'Failed', 'Unknown');

export const podCondition = object({
  type: string({ min: 1 }),
  status: literal('True', 'False', 'Unknown'),
  reason: optional(string()),
  message: optional(string()),
  lastTransitionTime: optional(string()),
});

/** Something worth a Kubernetes Event (Pulled, Started, BackOff, Killing, Unhealthy, ...). */
export const podEventNote = object({
  type: literal('Normal', 'Warning'),
  reason: string({ min: 1 }),
  message: string(),
  container: optional(string()),
  at: integer({ min: 0 }),
});

export const podEvent = object({
  uid: string({ min: 1 }),
  namespace: string({ min: 1 }),
  name: string({ min: 1 }),
  seq: integer({ min: 1 }),
  workerId: string({ min: 1 }),
  at: integer({ min: 0 }),
  phase: podPhase,
  reason: optional(string()),
  message: optional(string()),
  hostIP: optional(string()),
  podIP: optional(string()),
  podIPs: optional(array(object({ ip: string() }))),
  startTime: optional(string()),
  conditions: optional(array(podCondition)),
  // v1.ContainerStatus objects, as the worker builds them.
  initContainerStatuses: optional(array(anyObject())),
  containerStatuses: optional(array(anyObject())),
  notes: optional(array(podEventNote)),
});

/**
 * `keys.podStatuses(uid)`: the container statuses of the latest PodEvent that carried any,
 * written with the event by the worker that runs the pod. The next worker to run a pod lost
 * with its host continues from it (restart counts, lastState).
 */
export const podStatuses = object({
  workerId: string({ min: 1 }),
  seq: integer({ min: 1 }),
  initContainerStatuses: optional(array(anyObject())),
  containerStatuses: optional(array(anyObject())),
});

export type PodEvent = Infer<typeof podEvent>;
export type PodStatuses = Infer<typeof podStatuses>;
export type PodPhase = Infer<typeof podPhase>;
export type PodEventNote = Infer<typeof podEventNote>;

/** True when `next` should replace `current` (higher sequence for the same pod). */
export function isNewer(current: Pick<PodEvent, 'seq'> | undefined, next: Pick<PodEvent, 'seq'>): boolean {
  return current === undefined || next.seq > current.seq;
}
