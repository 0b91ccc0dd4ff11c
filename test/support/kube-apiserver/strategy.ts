// Per-resource create/update strategies: system fields, status/spec separation, generation,
// and the immutability rules of rest.BeforeCreate / rest.BeforeUpdate.
import { randomUUID } from 'node:crypto';
import { clone, isObject, jsonEqual, randomSuffix, timestamp, type KubeObject } from './objects.ts';
import type { ResourceDef } from './resources.ts';
import { invalidUpdate } from './validation.ts';
import { syncPodIPs } from './pod-status.ts';

/** Fills system metadata and per-kind defaults of a new object (mutates and returns it). */
export function prepareCreate(def: ResourceDef, obj: KubeObject): KubeObject {
  const meta = obj.metadata;
  if (!meta.name && meta.generateName) meta.name = `${meta.generateName}${randomSuffix()}`;
  meta.uid = randomUUID();
  meta.creationTimestamp = timestamp();
  delete meta.deletionTimestamp;
  delete meta.deletionGracePeriodSeconds;
  delete meta.resourceVersion;
  if (def.generation) meta.generation = 1;
  else delete meta.generation;
  if (!def.namespaced) delete meta.namespace;
  if (def.kind === 'Pod') obj.status = { phase: 'Pending', qosClass: qosClass(obj) };
  if (def.kind === 'Namespace') {
    obj.spec = { finalizers: ['kubernetes'] };
    obj.status = { phase: 'Active' };
  }
  return obj;
}

type Resources = { requests?: Record<string, unknown>; limits?: Record<string, unknown> };

/** QoS class as the apiserver computes it at pod creation (cpu and memory only). */
export function qosClass(pod: KubeObject): string {
  const spec = isObject(pod.spec) ? pod.spec : {};
  const containers = [...((spec.containers as unknown[]) ?? []), ...((spec.initContainers as unknown[]) ?? [])];
  let any = false;
  let guaranteed = true;
  for (const c of containers) {
    const r: Resources = isObject(c) && isObject(c.resources) ? (c.resources as Resources) : {};
    for (const res of ['cpu', 'memory']) {
      const req = r.requests?.[res] ?? r.limits?.[res];
      const lim = r.limits?.[res];
      if (req !== undefined || lim !== undefined) any = true;
      if (lim === undefined || String(req) !== String(lim)) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

/**
 * Merges an incoming update with the stored object: keeps uid, creationTimestamp, deletion
 * fields and generation; on the main resource of a status-split kind keeps .status, on
 * /status keeps everything but .status and metadata labels/annotations; bumps generation on
 * spec changes; enforces pod spec immutability and the finalizer rule of deleting objects.
 */
export function prepareUpdate(def: ResourceDef, incoming: KubeObject, old: KubeObject, subresource: string): KubeObject {
  const obj = clone(incoming);
  const meta = obj.metadata;
  const oldMeta = old.metadata;
  if (meta.uid && meta.uid !== oldMeta.uid) invalidUpdate(def, oldMeta.name!, 'metadata.uid', `Invalid value: ${JSON.stringify(meta.uid)}: field is immutable`, 'FieldValueInvalid');
  meta.uid = oldMeta.uid;
  meta.creationTimestamp = oldMeta.creationTimestamp;
  if (oldMeta.deletionTimestamp) meta.deletionTimestamp = oldMeta.deletionTimestamp;
  else delete meta.deletionTimestamp;
  if (oldMeta.deletionGracePeriodSeconds !== undefined) meta.deletionGracePeriodSeconds = oldMeta.deletionGracePeriodSeconds;
  else delete meta.deletionGracePeriodSeconds;
  if (oldMeta.generation !== undefined) meta.generation = oldMeta.generation;
  else delete meta.generation;
  if (subresource === 'status') {
    for (const key of Object.keys(obj)) if (!['apiVersion', 'kind', 'metadata', 'status'].includes(key)) delete obj[key];
    for (const key of Object.keys(old)) if (!['metadata', 'status'].includes(key)) obj[key] = clone(old[key]);
    if (def.kind === 'Pod') meta.ownerReferences = clone(oldMeta.ownerReferences);
    if (meta.ownerReferences === undefined) delete meta.ownerReferences;
  } else if (def.statusSplit) {
    if (old.status === undefined) delete obj.status;
    else obj.status = clone(old.status);
  }
  if (def.kind === 'Pod' && subresource === '') checkPodSpecUpdate(def, obj, old);
  if (def.kind === 'Pod') syncPodIPs(obj);
  if (def.generation && !jsonEqual(obj.spec, old.spec)) meta.generation = (oldMeta.generation ?? 0) + 1;
  if (oldMeta.deletionTimestamp) {
    const added = (meta.finalizers ?? []).filter((f) => !(oldMeta.finalizers ?? []).includes(f));
    if (added.length > 0) invalidUpdate(def, oldMeta.name!, 'metadata.finalizers', 'Forbidden: no new finalizers can be added if the object is being deleted');
  }
  return obj;
}

const MUTABLE_POD_SPEC_NOTE = 'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

/** Pod spec is immutable apart from images, activeDeadlineSeconds and tolerations. */
function checkPodSpecUpdate(def: ResourceDef, obj: KubeObject, old: KubeObject): void {
  const strip = (spec: unknown) => {
    const s = clone(isObject(spec) ? spec : {});
    delete s.activeDeadlineSeconds;
    delete s.tolerations;
    for (const list of ['containers', 'initContainers']) {
      if (Array.isArray(s[list])) for (const c of s[list] as unknown[]) if (isObject(c)) delete c.image;
    }
    return s;
  };
  if (!jsonEqual(strip(obj.spec), strip(old.spec))) {
    invalidUpdate(def, old.metadata.name!, 'spec', `Forbidden: ${MUTABLE_POD_SPEC_NOTE}`);
  }
}

/** True when an update removed the last finalizer of an object whose deletion is due now. */
export function deleteDuringUpdate(updated: KubeObject, old: KubeObject): boolean {
  const meta = updated.metadata;
  if ((meta.finalizers ?? []).length > 0 || (old.metadata.finalizers ?? []).length === 0) return false;
  return meta.deletionTimestamp !== undefined && (meta.deletionGracePeriodSeconds ?? 0) === 0;
}
