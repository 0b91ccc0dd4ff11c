// CRUD on one resource with apiserver semantics: creates, updates with resourceVersion
// preconditions, patches, lists with selectors and pagination. Input and output are in the
// client's API version (wire form); storage form stays inside.
import { admitCreate } from './admission.ts';
import { fromWire, toWire } from './convert.ts';
import { deleteObject, type DeleteOptions, type DeleteResult } from './deletion.ts';
import { clone, isObject, jsonEqual, type KubeObject } from './objects.ts';
import { mergePatch, jsonPatch } from './patch.ts';
import { selectableFields, type ResourceDef } from './resources.ts';
import { parseFieldSelector, parseLabelSelector } from './selectors.ts';
import { alreadyExists, ApiError, badRequest, conflict, expired, internalError, notFound, STALE_OBJECT, unsupportedMediaType } from './status.ts';
import type { Store } from './store.ts';
import { deleteDuringUpdate, prepareCreate, prepareUpdate } from './strategy.ts';
import type { AdmitFn } from './node-restriction.ts';
import { strategicMergePatch } from './strategic-merge.ts';
import { checkDecoding, validate } from './validation.ts';

/** List query as the apiserver reads it. */
export interface ListQuery {
  labelSelector?: string | null;
  fieldSelector?: string | null;
  limit?: number;
  continue?: string | null;
  resourceVersion?: string | null;
}

export interface ListResult {
  items: KubeObject[];
  resourceVersion: string;
  continue?: string;
  remainingItemCount?: number;
}

export const PATCH_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json'];

const gr = (def: ResourceDef) => ({ group: def.group, resource: def.resource });

/** Compiles label + field selectors of a request into one predicate on stored objects. */
export function compileSelector(def: ResourceDef, labelSelector?: string | null, fieldSelector?: string | null): (obj: KubeObject) => boolean {
  const labels = parseLabelSelector(labelSelector);
  const known = Object.keys(selectableFields(def, { metadata: {} }));
  const fields = parseFieldSelector(fieldSelector, known, `${def.group}/${def.version}, Resource=${def.resource}`);
  return (obj) => labels(obj.metadata.labels ?? {}) && fields(selectableFields(def, obj));
}

/**
 * One registry per server; each call is synchronous and atomic (single-threaded), so a
 * read-check-write sequence can never interleave with another request.
 */
export class Registry {
  readonly store: Store;

  constructor(store: Store) {
    this.store = store;
  }

  get(def: ResourceDef, namespace: string | undefined, name: string): KubeObject {
    return toWire(def, this.getStored(def, namespace, name));
  }

  getStored(def: ResourceDef, namespace: string | undefined, name: string): KubeObject {
    const obj = this.store.get(def.storage, def.namespaced ? namespace : undefined, name);
    if (!obj) throw notFound(gr(def), name);
    return obj;
  }

  list(def: ResourceDef, namespace: string | undefined, query: ListQuery): ListResult {
    const matches = compileSelector(def, query.labelSelector, query.fieldSelector);
    checkListResourceVersion(this.store, query.resourceVersion);
    let items = this.store.list(def.storage, def.namespaced ? namespace : undefined).filter(matches);
    const rv = String(this.store.resourceVersion);
    if (query.continue) {
      const token = decodeContinue(query.continue, this.store);
      items = items.filter((o) => `${o.metadata.namespace ?? ''}/${o.metadata.name}` > token.start);
    }
    const result: ListResult = { items: items.map((o) => toWire(def, o)), resourceVersion: rv };
    if (query.limit && query.limit > 0 && items.length > query.limit) {
      const last = items[query.limit - 1];
      result.items = result.items.slice(0, query.limit);
      result.continue = Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: Number(rv), start: `${last.metadata.namespace ?? ''}/${last.metadata.name}` })).toString('base64');
      result.remainingItemCount = items.length - query.limit;
    }
    return result;
  }

  /** POST: returns the stored object (201). */
  create(def: ResourceDef, namespace: string | undefined, body: unknown, admit?: AdmitFn): KubeObject {
    const obj = fromWire(def, checkBody(def, body, namespace));
    checkDecoding(def, obj);
    if (presetVersion(obj.metadata.resourceVersion)) throw internalError('resourceVersion should not be set on objects to be created');
    admitCreate(this.store, def, obj);
    prepareCreate(def, obj);
    admit?.(obj, undefined);
    validate(def, obj);
    for (let attempt = 0; ; attempt++) {
      if (!this.store.peek(def.storage, obj.metadata.namespace, obj.metadata.name!)) break;
      if (!obj.metadata.generateName || attempt >= 8) throw alreadyExists(gr(def), obj.metadata.name!);
      prepareCreate(def, Object.assign(obj, { metadata: { ...obj.metadata, name: undefined } }));
    }
    return toWire(def, this.store.create(def.storage, obj));
  }

  /** PUT: returns the object and whether it was created (createOnUpdate kinds). */
  update(def: ResourceDef, namespace: string | undefined, name: string, body: unknown, subresource = '', admit?: AdmitFn): { object: KubeObject; created: boolean } {
    const incoming = checkBody(def, body, namespace, name);
    const existing = this.store.get(def.storage, def.namespaced ? namespace : undefined, name);
    if (!existing) {
      if (def.createOnUpdate && subresource === '') {
        delete incoming.metadata.resourceVersion;
        return { object: this.create(def, namespace, incoming, admit), created: true };
      }
      throw notFound(gr(def), name);
    }
    const rv = incoming.metadata.resourceVersion;
    if (presetVersion(rv) && rv !== existing.metadata.resourceVersion) throw conflict(gr(def), name, STALE_OBJECT);
    return { object: this.write(def, fromWire(def, incoming), existing, subresource, admit), created: false };
  }

  /** PATCH with one of PATCH_TYPES; a resourceVersion in the patch is a precondition. */
  patch(def: ResourceDef, namespace: string | undefined, name: string, contentType: string, body: unknown, subresource = '', admit?: AdmitFn): KubeObject {
    const existing = this.getStored(def, namespace, name);
    const wire = toWire(def, existing);
    let patched: unknown;
    if (contentType === 'application/merge-patch+json') patched = mergePatch(wire, body);
    else if (contentType === 'application/strategic-merge-patch+json') patched = strategicMergePatch(def.kind, wire, body);
    else if (contentType === 'application/json-patch+json') patched = jsonPatch(wire, body);
    else throw unsupportedMediaType(contentType);
    if (!isObject(patched) || !isObject(patched.metadata)) throw badRequest('patched object has no metadata');
    const obj = checkBody(def, patched, namespace, name);
    const rv = obj.metadata.resourceVersion;
    if (presetVersion(rv) && rv !== existing.metadata.resourceVersion) throw conflict(gr(def), name, STALE_OBJECT);
    return this.write(def, fromWire(def, obj), existing, subresource, admit);
  }

  delete(def: ResourceDef, namespace: string | undefined, name: string, options: DeleteOptions, admit?: AdmitFn): DeleteResult {
    const existing = this.getStored(def, namespace, name);
    admit?.(existing, existing);
    const result = deleteObject(this.store, def, existing, options);
    const body = result.body as KubeObject;
    return body.kind === 'Status' ? result : { ...result, body: toWire(def, body) };
  }

  /** Shared tail of PUT and PATCH: strategy, validation, no-op detection, finalizer completion. */
  private write(def: ResourceDef, incoming: KubeObject, existing: KubeObject, subresource: string, admit?: AdmitFn): KubeObject {
    checkDecoding(def, incoming);
    const obj = prepareUpdate(def, incoming, existing, subresource);
    admit?.(obj, existing);
    validate(def, obj, existing);
    obj.metadata.resourceVersion = existing.metadata.resourceVersion;
    // A no-op update writes nothing: same resourceVersion, no watch event (like etcd3's GuaranteedUpdate).
    if (jsonEqual(obj, existing)) return toWire(def, existing);
    if (deleteDuringUpdate(obj, existing)) {
      // Store.Update deletes instead of writing: one DELETED event carrying the last stored state.
      return toWire(def, this.store.remove(def.storage, obj.metadata.namespace, obj.metadata.name!)!);
    }
    return toWire(def, this.store.update(def.storage, obj));
  }
}

/** A resourceVersion that acts as a precondition: the versioner parses "" and "0" both as 0, "no precondition". */
function presetVersion(rv: string | undefined): boolean {
  return rv !== undefined && rv !== '' && rv !== '0';
}

/** Shape checks every write body gets, with the apiserver's 400 messages. */
function checkBody(def: ResourceDef, body: unknown, namespace: string | undefined, name?: string): KubeObject {
  if (!isObject(body)) throw badRequest('the body of the request was in an unknown format');
  const obj = clone(body) as KubeObject;
  if (obj.kind !== undefined && obj.kind !== def.kind) {
    throw badRequest(`${String(obj.kind)} in version "${def.version}" cannot be handled as a ${def.kind}: the kind does not match`);
  }
  obj.metadata = isObject(obj.metadata) ? obj.metadata : {};
  if (def.namespaced) {
    if (obj.metadata.namespace && obj.metadata.namespace !== namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    obj.metadata.namespace = namespace;
  }
  if (name !== undefined && obj.metadata.name !== undefined && obj.metadata.name !== name) {
    throw badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`);
  }
  if (name !== undefined) obj.metadata.name = name;
  return obj;
}

function checkListResourceVersion(store: Store, rv: string | null | undefined): void {
  if (!rv || rv === '0') return;
  if (!/^\d+$/.test(rv)) throw new ApiError(400, 'BadRequest', `invalid resource version: ${rv}`);
  if (Number(rv) > store.resourceVersion) {
    throw new ApiError(504, 'Timeout', `Too large resource version: ${rv}, current: ${store.resourceVersion}`, {
      causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }], retryAfterSeconds: 1,
    });
  }
}

function decodeContinue(token: string, store: Store): { rv: number; start: string } {
  let parsed: { rv?: unknown; start?: unknown };
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64').toString('utf8'));
  } catch {
    throw badRequest('continue key is not valid: illegal base64 data');
  }
  if (typeof parsed.rv !== 'number' || typeof parsed.start !== 'string') throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  if (parsed.rv < store.compactedRevision) {
    throw expired('The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.');
  }
  return { rv: parsed.rv, start: parsed.start };
}
