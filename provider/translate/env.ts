/**
 * A container's environment, resolved: envFrom, then env in order, with `$(VAR)` references
 * expanded against the variables defined before (the kubelet's rules: `$$` escapes, unknown
 * references stay as written). `status.podIP` and friends are left for the worker.
 */
import type { EnvVar } from '../../src/schema/pod-job.ts';
import type { KubeObject } from '../kube-client.ts';
import { fieldRefValue, resourceFieldValue } from './field-ref.ts';
import { entries, fetchSource, keyValue } from './lookup.ts';
import type { Sources } from './sources.ts';

// The kubelet skips envFrom keys that are not valid env var names (and emits an event).
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/** Resolves one container's env; throws CONTAINER_CONFIG for a missing mandatory source. */
export async function resolveEnv(pod: KubeObject, container: KubeObject, sources: Sources): Promise<EnvVar[]> {
  const ns: string = pod.metadata.namespace;
  const vars = new Map<string, EnvVar>();
  for (const from of container.envFrom ?? []) {
    const kind = from.configMapRef ? 'configmap' : 'secret';
    const ref = from.configMapRef ?? from.secretRef;
    if (!ref) continue;
    const obj = await fetchSource(sources, kind, ns, ref.name, ref.optional);
    if (!obj) continue;
    for (const [k, v] of entries(kind, obj)) {
      const name = (from.prefix ?? '') + k;
      if (ENV_NAME.test(name)) vars.set(name, { name, value: v.toString('utf8') });
    }
  }
  for (const e of container.env ?? []) {
    vars.delete(e.name);
    const v = await resolveOne(pod, container, e, sources, vars);
    if (v) vars.set(e.name, v);
  }
  return [...vars.values()];
}

async function resolveOne(pod: KubeObject, container: KubeObject, e: KubeObject, sources: Sources, defined: Map<string, EnvVar>): Promise<EnvVar | undefined> {
  const ns: string = pod.metadata.namespace;
  const from = e.valueFrom;
  if (!from) return { name: e.name, value: expand(e.value ?? '', defined) };
  if (from.fieldRef) {
    const v = fieldRefValue(pod, from.fieldRef.fieldPath);
    return 'value' in v ? { name: e.name, value: v.value } : { name: e.name, fieldPath: v.fieldPath };
  }
  if (from.resourceFieldRef) return { name: e.name, value: resourceFieldValue(pod, from.resourceFieldRef, container.name) };
  const kind = from.configMapKeyRef ? 'configmap' : 'secret';
  const value = await keyValue(sources, kind, ns, from.configMapKeyRef ?? from.secretKeyRef);
  // An optional missing key leaves the variable unset, like the kubelet.
  return value === undefined ? undefined : { name: e.name, value: value.toString('utf8') };
}

/** Expands `$(NAME)` from already-defined plain values; `$$(X)` yields `$(X)`. */
export function expand(input: string, defined: Map<string, EnvVar>): string {
  return input.replace(/\$\$|\$\(([^)]*)\)/g, (m, name: string | undefined) => {
    if (m === '$$') return '$';
    const v = defined.get(name!);
    return v?.value !== undefined && v.fieldPath === undefined ? v.value : m;
  });
}
