/**
 * Pure builders for what the kubelet reports: v1.ContainerStatus objects, the pod phase
 * (kubelet getPhase) and the pod conditions (PodReadyToStartContainers, Initialized,
 * ContainersReady, Ready, PodScheduled) with their reasons and messages.
 */
import type { PodPhase } from '../../src/schema/pod-event.ts';

export type ContainerStateV1 =
  | { waiting: { reason: string; message?: string } }
  | { running: { startedAt: string } }
  | { terminated: { exitCode: number; signal?: number; reason: string; message?: string; startedAt?: string; finishedAt?: string; containerID?: string } };

/** The runner's view of one container, from which its v1 status is built. */
export interface ContainerTrack {
  name: string;
  init: boolean;
  /** Restartable init container (sidecar). */
  sidecar: boolean;
  image: string;
  imageID?: string;
  containerID?: string;
  state: ContainerStateV1;
  lastState?: ContainerStateV1;
  restartCount: number;
  ready: boolean;
  started: boolean;
  /** Will this container run again after it terminated (restart policy allows it)? */
  willRestart: boolean;
}

export const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export const burstletContainerID = (id: string) => `burstlet://${id}`;

/** A v1.ContainerStatus object. */
export function containerStatusV1(t: ContainerTrack): Record<string, unknown> {
  return {
    name: t.name,
    state: t.state,
    lastState: t.lastState ?? {},
    ready: t.ready,
    restartCount: t.restartCount,
    image: t.image,
    imageID: t.imageID ?? '',
    ...(t.containerID ? { containerID: burstletContainerID(t.containerID) } : {}),
    started: t.started,
  };
}

const isRunning = (t: ContainerTrack) => 'running' in t.state;
const isTerminated = (t: ContainerTrack) => 'terminated' in t.state;
const exitCode = (t: ContainerTrack) => ('terminated' in t.state ? t.state.terminated.exitCode : undefined);

/** kubelet getPhase for a pod whose sandbox is up. */
export function podPhase(init: ContainerTrack[], app: ContainerTrack[], initDone: boolean): PodPhase {
  if (!initDone) {
    const failed = init.some((t) => !t.sidecar && isTerminated(t) && exitCode(t) !== 0 && !t.willRestart);
    return failed ? 'Failed' : 'Pending';
  }
  if (app.some(isRunning)) return 'Running';
  if (app.some((t) => !isTerminated(t) || t.willRestart)) {
    return app.some((t) => isTerminated(t) || t.restartCount > 0) ? 'Running' : 'Pending';
  }
  return app.every((t) => exitCode(t) === 0) ? 'Succeeded' : 'Failed';
}

export interface ConditionInput {
  sandboxReady: boolean;
  initDone: boolean;
  phase: PodPhase;
  init: ContainerTrack[];
  app: ContainerTrack[];
}

type Cond = { type: string; status: 'True' | 'False'; reason?: string; message?: string };

const names = (ts: ContainerTrack[]) => `[${ts.map((t) => t.name).join(' ')}]`;

/** The pod's conditions without transition times (see ConditionClock). */
export function podConditions(i: ConditionInput): Cond[] {
  const terminal = i.phase === 'Succeeded' || i.phase === 'Failed';
  const pendingInit = i.init.filter((t) => !t.sidecar && exitCode(t) !== 0);
  const initialized: Cond = i.initDone
    ? { type: 'Initialized', status: 'True' }
    : { type: 'Initialized', status: 'False', reason: 'ContainersNotInitialized', message: `containers with incomplete status: ${names(pendingInit)}` };
  const unready = [...i.init.filter((t) => t.sidecar), ...i.app].filter((t) => !t.ready);
  const ready: Cond = terminal
    ? { type: 'ContainersReady', status: 'False', reason: 'PodCompleted' }
    : unready.length === 0 && i.initDone
      ? { type: 'ContainersReady', status: 'True' }
      : { type: 'ContainersReady', status: 'False', reason: 'ContainersNotReady', message: `containers with unready status: ${names(unready.length ? unready : i.app)}` };
  return [
    { type: 'PodReadyToStartContainers', status: i.sandboxReady ? 'True' : 'False' },
    initialized,
    { ...ready, type: 'Ready' },
    ready,
    { type: 'PodScheduled', status: 'True' },
  ];
}

/** Keeps each condition's lastTransitionTime across snapshots. */
export class ConditionClock {
  readonly #seen = new Map<string, { status: string; at: string }>();

  stamp(conds: Cond[], now: number): (Cond & { lastTransitionTime: string })[] {
    return conds.map((c) => {
      const prev = this.#seen.get(c.type);
      const at = prev && prev.status === c.status ? prev.at : iso(now);
      this.#seen.set(c.type, { status: c.status, at });
      return { ...c, lastTransitionTime: at };
    });
  }
}
