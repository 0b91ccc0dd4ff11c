/**
 * CRI's ContainerStatus as burstlet's RuntimeService reports it, and how an executor state
 * maps onto it (containerd's reasons: Completed, Error, OOMKilled, StartError).
 */
import type { ExecutorState } from '../executor/executor.ts';

export type CriContainerState = 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN';

/** What the runtime remembers about a container it created (persisted next to the bundle). */
export interface ContainerRecord {
  id: string;
  podUid: string;
  name: string;
  attempt: number;
  image: string;
  imageId: string;
  createdAt: number;
  logPath: string;
  bundle: string;
  rootfs: string;
  /** The image's STOPSIGNAL, or SIGTERM. */
  stopSignal: NodeJS.Signals;
  /** Host file bind-mounted at terminationMessagePath. */
  terminationLog: string;
}

export interface CriContainerStatus {
  id: string;
  podUid: string;
  name: string;
  attempt: number;
  state: CriContainerState;
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  exitCode?: number;
  signal?: number;
  reason?: string;
  message?: string;
  image: string;
  imageRef: string;
  logPath: string;
}

/** The terminated reason the kubelet shows for an exit. */
export function exitReason(st: Pick<ExecutorState, 'exitCode' | 'oomKilled' | 'startError'>): string {
  if (st.startError) return 'StartError';
  if (st.oomKilled) return 'OOMKilled';
  return st.exitCode === 0 ? 'Completed' : 'Error';
}

export function toCriStatus(rec: ContainerRecord, st: ExecutorState | undefined): CriContainerStatus {
  const base: CriContainerStatus = {
    id: rec.id, podUid: rec.podUid, name: rec.name, attempt: rec.attempt, state: 'CONTAINER_UNKNOWN',
    createdAt: rec.createdAt, image: rec.image, imageRef: rec.imageId, logPath: rec.logPath,
  };
  if (!st) return base;
  if (st.status === 'created') return { ...base, state: 'CONTAINER_CREATED' };
  if (st.status === 'running') return { ...base, state: 'CONTAINER_RUNNING', startedAt: st.startedAt };
  return {
    ...base, state: 'CONTAINER_EXITED', startedAt: st.startedAt ?? st.finishedAt, finishedAt: st.finishedAt,
    exitCode: st.exitCode, signal: st.signal, reason: exitReason(st), ...(st.startError ? { message: st.startError } : {}),
  };
}

/** A signal name the executor accepts (image STOPSIGNAL may be "15", "TERM" or "SIGTERM"). */
export function parseStopSignal(s: string): NodeJS.Signals {
  if (!s) return 'SIGTERM';
  const names: Record<string, NodeJS.Signals> = { 1: 'SIGHUP', 2: 'SIGINT', 3: 'SIGQUIT', 9: 'SIGKILL', 10: 'SIGUSR1', 12: 'SIGUSR2', 15: 'SIGTERM', 28: 'SIGWINCH' };
  if (/^\d+$/.test(s)) return names[s] ?? 'SIGTERM';
  const up = s.toUpperCase();
  return (up.startsWith('SIG') ? up : `SIG${up}`) as NodeJS.Signals;
}
