// Pod status rules of the v1 conversion and ValidatePodStatusUpdate: podIP/podIPs and
// hostIP/hostIPs kept in sync, valid IPs, and terminated containers that may not restart.
import { isIP } from 'node:net';
import { isObject, type KubeObject } from './objects.ts';
import type { StatusCause } from './status.ts';

type Rec = Record<string, unknown>;

/** Like Convert_v1_PodStatus_To_core_PodStatus and back: the singular field is authoritative. */
export function syncPodIPs(pod: KubeObject): void {
  const status = isObject(pod.status) ? pod.status : undefined;
  if (!status) return;
  for (const [one, many] of [['podIP', 'podIPs'], ['hostIP', 'hostIPs']] as const) {
    const list = Array.isArray(status[many]) ? (status[many] as Rec[]) : [];
    if (typeof status[one] === 'string' && status[one]) {
      if (list.length === 0 || list[0]?.ip !== status[one]) status[many] = [{ ip: status[one] }];
    } else if (list.length > 0 && typeof list[0]?.ip === 'string') {
      status[one] = list[0].ip;
    }
  }
}

const statuses = (pod: KubeObject, key: string): Rec[] => {
  const status = isObject(pod.status) ? pod.status : {};
  return Array.isArray(status[key]) ? (status[key] as unknown[]).filter(isObject) : [];
};

/** Causes for an invalid status: bad IPs, and containers leaving `terminated` that must not restart. */
export function podStatusCauses(pod: KubeObject, old: KubeObject | undefined): StatusCause[] {
  const causes: StatusCause[] = [];
  for (const key of ['podIPs', 'hostIPs']) {
    statuses(pod, key).forEach((entry, i) => {
      if (typeof entry.ip !== 'string' || isIP(entry.ip) === 0) {
        causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(entry.ip)}: must be a valid IP address`, field: `status.${key}[${i}].ip` });
      }
    });
  }
  if (!old) return causes;
  const policy = isObject(old.spec) ? old.spec.restartPolicy : undefined;
  for (const key of ['containerStatuses', 'initContainerStatuses']) {
    const before = statuses(old, key);
    statuses(pod, key).forEach((cs, i) => {
      const prev = before.find((b) => b.name === cs.name);
      const wasTerminated = isObject(prev?.state) && isObject(prev.state.terminated) ? prev.state.terminated : undefined;
      const isTerminated = isObject(cs.state) && isObject(cs.state.terminated);
      if (!wasTerminated || isTerminated) return;
      const mayRestart = key === 'initContainerStatuses' ? policy !== 'Never' : policy === 'Always' || (policy === 'OnFailure' && wasTerminated.exitCode !== 0);
      if (!mayRestart) causes.push({ reason: 'FieldValueForbidden', message: 'Forbidden: may not be transitioned to non-terminated state', field: `status.${key}[${i}].state` });
    });
  }
  return causes;
}
