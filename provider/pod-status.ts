/**
 * PodEvent snapshot → `pods/status` patch, pure. The patch carries only `status` (a strategic
 * merge patch: conditions merge by type, so conditions others wrote — PodScheduled, readiness
 * gates — survive). It never moves a pod out of a terminal phase, and returns undefined when
 * the pod already shows everything the snapshot says, so unchanged snapshots cost no write.
 */
import type { PodEvent } from '../src/schema/pod-event.ts';
import type { KubeObject } from './kube-client.ts';

export const TERMINAL_PHASES = ['Succeeded', 'Failed'] as const;
export const isTerminalPhase = (phase: unknown): boolean => phase === 'Succeeded' || phase === 'Failed';

/** The status fields a snapshot sets; undefined when the pod already shows them. */
export function statusPatch(pod: KubeObject | undefined, e: PodEvent): { status: KubeObject } | undefined {
  const current: KubeObject = pod?.status ?? {};
  if (isTerminalPhase(current.phase) && current.phase !== e.phase) return undefined;
  const status: KubeObject = { phase: e.phase };
  const set = (k: string, v: unknown) => {
    if (v !== undefined) status[k] = v;
  };
  set('reason', e.reason);
  set('message', e.message);
  set('hostIP', e.hostIP);
  if (e.hostIP) status.hostIPs = [{ ip: e.hostIP }];
  set('podIP', e.podIP);
  set('podIPs', e.podIPs ?? (e.podIP ? [{ ip: e.podIP }] : undefined));
  set('startTime', e.startTime);
  set('containerStatuses', e.containerStatuses);
  set('initContainerStatuses', e.initContainerStatuses);
  if (e.conditions?.length) status.conditions = mergeConditions(current.conditions ?? [], e.conditions);
  return changed(current, status) ? { status } : undefined;
}

/** Conditions from the snapshot, keeping lastTransitionTime when a condition's status did not flip. */
function mergeConditions(existing: KubeObject[], next: NonNullable<PodEvent['conditions']>): KubeObject[] {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  return next.map((c) => {
    const old = existing.find((o) => o.type === c.type);
    const lastTransitionTime = old && old.status === c.status ? old.lastTransitionTime : (c.lastTransitionTime ?? now);
    return { ...c, lastTransitionTime, lastProbeTime: null };
  });
}

// A field changed when its JSON differs; conditions compare without their timestamps.
function changed(current: KubeObject, next: KubeObject): boolean {
  for (const [k, v] of Object.entries(next)) {
    if (k === 'conditions') {
      const strip = (cs: KubeObject[] = []) => JSON.stringify(cs.map((c) => [c.type, c.status, c.reason ?? '', c.message ?? '']).sort());
      const mine = strip(v);
      const theirs = strip((current.conditions ?? []).filter((c: KubeObject) => v.some((n: KubeObject) => n.type === c.type)));
      if (mine !== theirs) return true;
    } else if (JSON.stringify(v) !== JSON.stringify(current[k])) {
      return true;
    }
  }
  return false;
}

/** True when every container of the pod has terminated (deletion may finish now). */
export function allContainersTerminated(pod: KubeObject): boolean {
  if (isTerminalPhase(pod.status?.phase)) return true;
  const statuses: KubeObject[] = pod.status?.containerStatuses ?? [];
  const names: string[] = (pod.spec?.containers ?? []).map((c: KubeObject) => c.name);
  return names.length > 0 && names.every((n) => statuses.some((s) => s.name === n && s.state?.terminated));
}

/** Status of a pod that will not run: Failed with a reason (unsupported spec, invalid input). */
export function failedStatus(reason: string, message: string): { status: KubeObject } {
  return { status: { phase: 'Failed', reason, message } };
}

/** Status of a pod waiting on configuration (CreateContainerConfigError), like the kubelet's. */
export function configErrorStatus(pod: KubeObject, message: string): { status: KubeObject } {
  return waitingStatus(pod, 'CreateContainerConfigError', message);
}

/** A Pending pod whose containers all wait with one reason. */
export function waitingStatus(pod: KubeObject, reason: string, message?: string): { status: KubeObject } {
  const waiting = (c: KubeObject) => ({
    name: c.name, image: c.image, imageID: '', ready: false, restartCount: 0, started: false,
    state: { waiting: message === undefined ? { reason } : { reason, message } },
    lastState: {},
  });
  const status: KubeObject = { phase: 'Pending', containerStatuses: (pod.spec?.containers ?? []).map(waiting) };
  if (pod.spec?.initContainers?.length) status.initContainerStatuses = pod.spec.initContainers.map(waiting);
  return { status };
}
