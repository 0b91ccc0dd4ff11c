/**
 * Downward API values (fieldRef, resourceFieldRef), shared by env vars and downwardAPI
 * volumes. Values only the worker knows (pod and host IPs) are reported as such instead of
 * failing the pod: the worker fills them once the sandbox has its address.
 */
import { BurstletError } from '../../src/errors.ts';
import { cpuMillis, bytes, parseQuantity } from '../../src/quantity.ts';
import type { KubeObject } from '../kube-client.ts';

export const WORKER_FIELDS = ['status.podIP', 'status.podIPs', 'status.hostIP', 'status.hostIPs'] as const;
export type WorkerField = (typeof WORKER_FIELDS)[number];

/** A resolved value, or the worker-known field it stands for. */
export type FieldValue = { value: string } | { fieldPath: WorkerField };

const SUBSCRIPT = /^metadata\.(labels|annotations)\['(.+)'\]$/;

/** Resolves `fieldRef.fieldPath` the way the kubelet does; throws INVALID_INPUT on an unknown path. */
export function fieldRefValue(pod: KubeObject, fieldPath: string): FieldValue {
  if ((WORKER_FIELDS as readonly string[]).includes(fieldPath)) return { fieldPath: fieldPath as WorkerField };
  const meta = pod.metadata ?? {};
  const sub = SUBSCRIPT.exec(fieldPath);
  if (sub) return { value: (meta[sub[1]!] ?? {})[sub[2]!] ?? '' };
  switch (fieldPath) {
    case 'metadata.name': return { value: meta.name ?? '' };
    case 'metadata.namespace': return { value: meta.namespace ?? '' };
    case 'metadata.uid': return { value: meta.uid ?? '' };
    case 'metadata.labels': return { value: formatMap(meta.labels) };
    case 'metadata.annotations': return { value: formatMap(meta.annotations) };
    case 'spec.nodeName': return { value: pod.spec?.nodeName ?? '' };
    case 'spec.serviceAccountName': return { value: pod.spec?.serviceAccountName ?? '' };
    default:
      throw new BurstletError('POD_UNSUPPORTED', `fieldRef ${JSON.stringify(fieldPath)} is not supported`);
  }
}

// The kubelet's downward-API map format: key="value" lines, sorted by key.
function formatMap(m: Record<string, string> | undefined): string {
  return Object.keys(m ?? {}).sort().map((k) => `${k}=${JSON.stringify(m![k])}`).join('\n');
}

/**
 * Resolves `resourceFieldRef` against the named container. An unset limit resolves to "0":
 * the kubelet would fall back to node allocatable, which a pool of workers does not have.
 */
export function resourceFieldValue(pod: KubeObject, ref: { containerName?: string; resource: string; divisor?: string | number }, defaultContainer?: string): string {
  const name = ref.containerName || defaultContainer;
  const all = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  const c = all.find((x: KubeObject) => x.name === name);
  if (!c) throw new BurstletError('INVALID_INPUT', `resourceFieldRef: container ${JSON.stringify(name)} not found`);
  const [kind, resource] = ref.resource.split('.') as [string, string];
  const raw = c.resources?.[kind]?.[resource] ?? (kind === 'requests' ? c.resources?.limits?.[resource] : undefined);
  if (raw === undefined) return '0';
  if (resource === 'cpu') {
    const divisorMillis = ref.divisor === undefined ? 1000 : cpuMillis(ref.divisor);
    return String(Math.ceil(cpuMillis(raw) / divisorMillis));
  }
  const divisor = ref.divisor === undefined ? 1 : parseQuantity(ref.divisor);
  return String(Math.ceil(bytes(raw) / divisor));
}
