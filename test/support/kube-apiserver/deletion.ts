// DELETE semantics: preconditions, graceful deletion (pods), finalizers, and what DELETE
// returns — following rest.BeforeDelete and the generic registry's Store.Delete.
import { conflict, success, type StatusObject } from './status.ts';
import { clone, isObject, timestamp, type KubeObject } from './objects.ts';
import type { ResourceDef } from './resources.ts';
import type { Store } from './store.ts';

/** DeleteOptions fields honoured (from the body or gracePeriodSeconds query). */
export interface DeleteOptions {
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
}

/** Outcome: the body to return and whether the object is gone. */
export interface DeleteResult {
  body: KubeObject | StatusObject;
  deleted: boolean;
}

type Plan = { kind: 'now' } | { kind: 'pending' } | { kind: 'mark'; grace: number };

/** The pod strategy's CheckGracefulDelete: bound, non-terminal pods get a grace period. */
function podGrace(pod: KubeObject, requested: number | undefined): number {
  const spec = isObject(pod.spec) ? pod.spec : {};
  const status = isObject(pod.status) ? pod.status : {};
  let period = requested ?? (typeof spec.terminationGracePeriodSeconds === 'number' ? spec.terminationGracePeriodSeconds : 0);
  if (!spec.nodeName) period = 0;
  if (status.phase === 'Failed' || status.phase === 'Succeeded') period = 0;
  return period < 0 ? 1 : period;
}

/** rest.BeforeDelete for graceful kinds: first deletion marks, later ones may only shorten. */
function planGraceful(obj: KubeObject, requested: number | undefined): Plan {
  const meta = obj.metadata;
  if (requested !== undefined && requested < 0) requested = 1;
  if (meta.deletionTimestamp) {
    const current = meta.deletionGracePeriodSeconds;
    if (current === undefined || current === 0) return { kind: 'now' };
    if (requested === undefined || requested >= current) return { kind: 'pending' };
    return { kind: 'mark', grace: requested };
  }
  return { kind: 'mark', grace: podGrace(obj, requested) };
}

/** Sets deletionTimestamp = (existing start or now) + grace, as BeforeDelete does. */
function mark(obj: KubeObject, grace: number): KubeObject {
  const out = clone(obj);
  const meta = out.metadata;
  let base = Date.now();
  if (meta.deletionTimestamp && meta.deletionGracePeriodSeconds !== undefined) {
    base = Date.parse(meta.deletionTimestamp) - meta.deletionGracePeriodSeconds * 1000;
  } else if (meta.generation !== undefined) {
    meta.generation += 1;
  }
  meta.deletionTimestamp = timestamp(new Date(base + grace * 1000));
  meta.deletionGracePeriodSeconds = grace;
  return out;
}

function checkPreconditions(def: ResourceDef, obj: KubeObject, pre: DeleteOptions['preconditions']): void {
  const gr = { group: def.group, resource: def.kind };
  const name = obj.metadata.name!;
  if (pre?.uid !== undefined && pre.uid !== obj.metadata.uid) {
    throw conflict(gr, name, `the UID in the precondition (${pre.uid}) does not match the UID in record (${obj.metadata.uid}). The object might have been deleted and then recreated`);
  }
  if (pre?.resourceVersion !== undefined && pre.resourceVersion !== obj.metadata.resourceVersion) {
    throw conflict(gr, name, `the ResourceVersion in the precondition (${pre.resourceVersion}) does not match the ResourceVersion in record (${obj.metadata.resourceVersion}). The object might have been modified`);
  }
}

function finalResult(def: ResourceDef, obj: KubeObject): DeleteResult {
  if (def.returnDeleted) return { body: obj, deleted: true };
  const details = { name: obj.metadata.name, kind: def.resource, uid: obj.metadata.uid, ...(def.group ? { group: def.group } : {}) };
  return { body: success(details), deleted: true };
}

/**
 * Deletes `existing` (the caller looked it up). Graceful kinds are first marked with
 * deletionTimestamp/deletionGracePeriodSeconds (MODIFIED) and stay; a grace of 0 marks and
 * then removes (MODIFIED then DELETED). Objects with finalizers are only marked.
 */
export function deleteObject(store: Store, def: ResourceDef, existing: KubeObject, options: DeleteOptions): DeleteResult {
  checkPreconditions(def, existing, options.preconditions);
  const { namespace, name } = existing.metadata;
  const hasFinalizers = (existing.metadata.finalizers ?? []).length > 0;
  let current = existing;
  if (def.graceful) {
    const plan = planGraceful(existing, options.gracePeriodSeconds);
    if (plan.kind === 'pending') return { body: existing, deleted: false };
    if (plan.kind === 'mark') {
      current = store.update(def.storage, mark(existing, plan.grace));
      if (plan.grace > 0 || hasFinalizers) return { body: current, deleted: false };
    }
  }
  if (hasFinalizers) {
    if (current.metadata.deletionTimestamp) return { body: current, deleted: false };
    const marked = clone(current);
    marked.metadata.deletionTimestamp = timestamp();
    marked.metadata.deletionGracePeriodSeconds = 0;
    return { body: store.update(def.storage, marked), deleted: false };
  }
  const removed = store.remove(def.storage, namespace, name!);
  return finalResult(def, removed ?? current);
}
