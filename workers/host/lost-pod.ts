/**
 * Where a pod lost with its worker goes on from, pure. The host that claims such a pod reads
 * the container statuses the lost worker last published (`keys.podStatuses(uid)`), then:
 *
 * - restartPolicy Never: the pod ends Failed, and every container that had not terminated
 *   shows terminated `ContainerStatusUnknown`, exit code 137 — what the kubelet reports for
 *   a container it can no longer locate (restart counts unchanged: nothing ran again);
 * - Always/OnFailure: the pod runs again, and every container that had started continues
 *   with restartCount + 1 (the kubelet counts a container that is started again as a
 *   restart) and lastState = how its last run ended: that same ContainerStatusUnknown state
 *   for a container that was running, its terminated state for one that had exited, its
 *   lastState for one waiting to restart (back-off). A container that never started keeps
 *   its count and lastState. Under OnFailure, an app container that had succeeded stays
 *   terminated (exit 0) and is not run again, as the kubelet skips it when it recreates the
 *   sandbox; a pod whose app containers all succeeded is simply done.
 */
import { podStatuses, type PodStatuses } from '../../src/schema/pod-event.ts';
import type { CarriedContainer, PodSnapshot } from '../pod-runner.ts';

export const LOST_REASON = 'ContainerStatusUnknown';
export const LOST_EXIT_CODE = 137;

type Status = Record<string, unknown>;
type State = { waiting?: Status; running?: { startedAt?: string }; terminated?: Status };

/** The statuses stored under `keys.podStatuses(uid)`, or undefined when absent or unusable. */
export function parseStatuses(json: string | null): PodStatuses | undefined {
  if (json === null) return undefined;
  try {
    return podStatuses(JSON.parse(json));
  } catch {
    return undefined;
  }
}

/** The v1.ContainerState of a container lost with worker `worker`. */
export function lostState(worker: string, startedAt?: string): { terminated: Status } {
  return {
    terminated: {
      exitCode: LOST_EXIT_CODE, reason: LOST_REASON,
      message: `The container could not be located: worker ${worker} was lost while it ran`,
      ...(startedAt ? { startedAt } : {}),
    },
  };
}

const stateOf = (s: Status): State => (s.state && typeof s.state === 'object' ? (s.state as State) : {});
const lastOf = (s: Status): Status | undefined =>
  s.lastState && typeof s.lastState === 'object' && Object.keys(s.lastState).length ? (s.lastState as Status) : undefined;
const countOf = (s: Status): number => (Number.isInteger(s.restartCount) && (s.restartCount as number) >= 0 ? (s.restartCount as number) : 0);

/** How one container continues on the next worker (see the module comment). */
function carryOne(s: Status, worker: string): CarriedContainer {
  const state = stateOf(s);
  const count = countOf(s);
  const last = lastOf(s);
  if (state.running) return { restartCount: count + 1, lastState: lostState(worker, state.running.startedAt) };
  if (state.terminated) return { restartCount: count + 1, lastState: { terminated: state.terminated } };
  // Waiting: between two runs when it has a last termination (back-off), else never started.
  if (last?.terminated) return { restartCount: count + 1, lastState: last };
  return { restartCount: count, ...(last ? { lastState: last } : {}) };
}

/** Per container name, what a restartable pod's containers continue from. */
export function carriedFrom(saved: PodStatuses, worker: string, restartPolicy: 'Always' | 'OnFailure' | 'Never' = 'Always'): Record<string, CarriedContainer> {
  const out: Record<string, CarriedContainer> = {};
  const succeeded = (s: Status) => restartPolicy === 'OnFailure' && stateOf(s).terminated?.exitCode === 0;
  const keep = (s: Status): CarriedContainer => {
    const last = lastOf(s);
    return { restartCount: countOf(s), ...(last ? { lastState: last } : {}), completed: stateOf(s).terminated! };
  };
  const apps = saved.containerStatuses ?? [];
  // All app containers done: nothing runs again, init containers included.
  const allDone = apps.length > 0 && apps.every(succeeded);
  for (const s of saved.initContainerStatuses ?? []) {
    if (typeof s.name === 'string') out[s.name] = allDone && succeeded(s) ? keep(s) : carryOne(s, worker);
  }
  for (const s of apps) {
    if (typeof s.name === 'string') out[s.name] = succeeded(s) ? keep(s) : carryOne(s, worker);
  }
  return out;
}

/** The final statuses of a restartPolicy Never pod lost with worker `worker`. */
export function lostStatuses(saved: PodStatuses, worker: string): Pick<PodSnapshot, 'initContainerStatuses' | 'containerStatuses'> {
  const end = (s: Status): Status => {
    const state = stateOf(s);
    if (state.terminated) return s;
    return { ...s, state: lostState(worker, state.running?.startedAt), ready: false, started: false };
  };
  return {
    ...(saved.initContainerStatuses ? { initContainerStatuses: saved.initContainerStatuses.map(end) } : {}),
    ...(saved.containerStatuses ? { containerStatuses: saved.containerStatuses.map(end) } : {}),
  };
}
