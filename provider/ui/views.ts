/**
 * Pure functions that turn pods, workers and queues into what the UI shows, kubectl-style
 * (the STATUS column, READY x/y, RESTARTS). Trivial to test; no I/O.
 */
import type { EventRecord, PodObject, PodRecord } from './sources.ts';

export interface PodSummary {
  namespace: string;
  name: string;
  uid: string;
  phase: string;
  status: string;
  ready: string;
  restarts: number;
  worker?: string;
  createdAt?: string;
  deleting: boolean;
  lastEvent?: EventRecord;
}

/** kubectl's STATUS column: a container's waiting/terminated reason beats the phase. */
export function displayStatus(pod: PodObject): string {
  const s = pod.status ?? {};
  if (pod.metadata.deletionTimestamp) return 'Terminating';
  let reason = s.reason ?? s.phase ?? 'Pending';
  const inits = s.initContainerStatuses ?? [];
  for (let i = 0; i < inits.length; i++) {
    const c = inits[i]!;
    const term = c.state?.terminated;
    const wait = c.state?.waiting;
    if (term && term.exitCode === 0) continue;
    if (term) return term.reason ? `Init:${String(term.reason)}` : `Init:ExitCode:${String(term.exitCode)}`;
    if (wait?.reason && wait.reason !== 'PodInitializing') return `Init:${String(wait.reason)}`;
    return `Init:${i}/${pod.spec.initContainers?.length ?? inits.length}`;
  }
  for (const c of [...(s.containerStatuses ?? [])].reverse()) {
    const wait = c.state?.waiting;
    const term = c.state?.terminated;
    if (wait?.reason) reason = String(wait.reason);
    else if (term?.reason) reason = String(term.reason);
    else if (term) reason = term.signal ? `Signal:${String(term.signal)}` : `ExitCode:${String(term.exitCode)}`;
  }
  return reason;
}

export function summarize(record: PodRecord): PodSummary {
  const { pod } = record;
  const statuses = pod.status?.containerStatuses ?? [];
  return {
    namespace: pod.metadata.namespace,
    name: pod.metadata.name,
    uid: pod.metadata.uid,
    phase: pod.status?.phase ?? 'Pending',
    status: displayStatus(pod),
    ready: `${statuses.filter((c) => c.ready).length}/${pod.spec.containers.length}`,
    restarts: statuses.reduce((n, c) => n + (c.restartCount ?? 0), 0),
    worker: record.workerId,
    createdAt: pod.metadata.creationTimestamp,
    deleting: Boolean(pod.metadata.deletionTimestamp),
    lastEvent: record.events.at(-1),
  };
}

/** Sorts pods by namespace, then name. */
export const byName = (a: PodSummary, b: PodSummary) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name);
