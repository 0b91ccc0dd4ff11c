// Strategic merge patch (application/strategic-merge-patch+json) for the core types burstlet
// writes: lists merge by their patchMergeKey as the Go struct tags declare, directives
// $patch (replace/delete/merge), $retainKeys, $deleteFromPrimitiveList and $setElementOrder.
import { badRequest, internalError } from './status.ts';
import { clone, isObject } from './objects.ts';

/** A list's strategy: merge by `key` (objects) or, without key, union of primitives. */
interface ListStrategy {
  key?: string;
}

const METADATA: Record<string, ListStrategy> = {
  'metadata.finalizers': {},
  'metadata.ownerReferences': { key: 'uid' },
};

const CONTAINER = (prefix: string): Record<string, ListStrategy> => ({
  [prefix]: { key: 'name' },
  [`${prefix}[].ports`]: { key: 'containerPort' },
  [`${prefix}[].env`]: { key: 'name' },
  [`${prefix}[].volumeMounts`]: { key: 'mountPath' },
  [`${prefix}[].volumeDevices`]: { key: 'devicePath' },
});

/** patchMergeKey / patchStrategy=merge lists per Kind, from k8s.io/api/core/v1 struct tags. */
const SCHEMAS: Record<string, Record<string, ListStrategy>> = {
  Pod: {
    ...CONTAINER('spec.containers'), ...CONTAINER('spec.initContainers'), ...CONTAINER('spec.ephemeralContainers'),
    'spec.volumes': { key: 'name' },
    'spec.imagePullSecrets': { key: 'name' },
    'spec.hostAliases': { key: 'ip' },
    'status.conditions': { key: 'type' },
    'status.podIPs': { key: 'ip' },
    'status.hostIPs': { key: 'ip' },
    'status.resourceClaimStatuses': { key: 'name' },
  },
  Node: {
    'spec.podCIDRs': {},
    'status.conditions': { key: 'type' },
    'status.addresses': { key: 'type' },
  },
};

/** Applies a strategic merge patch for an object of `kind`; unknown kinds merge like JSON merge patch plus metadata lists. */
export function strategicMergePatch(kind: string, original: unknown, patch: unknown): unknown {
  if (!isObject(patch)) throw badRequest('unable to parse strategic merge patch: not a JSON object');
  const schema = { ...METADATA, ...(SCHEMAS[kind] ?? {}) };
  const out = mergeMap(isObject(original) ? clone(original) : {}, patch, '', schema);
  return out ?? {};
}

const join = (path: string, key: string) => (path ? `${path}.${key}` : key);
const DELETE_PRIMITIVE = '$deleteFromPrimitiveList/';
const SET_ORDER = '$setElementOrder/';

/** Merges `patch` into `original` (mutating it). Returns undefined for `$patch: delete`. */
function mergeMap(original: Record<string, unknown>, patch: Record<string, unknown>, path: string, schema: Record<string, ListStrategy>): Record<string, unknown> | undefined {
  const directive = patch.$patch;
  if (directive === 'delete') return undefined;
  if (directive === 'replace') return stripDirectives(patch) as Record<string, unknown>;
  if (directive !== undefined && directive !== 'merge') throw badRequest(`Unknown patch type: ${String(directive)} in map: ${JSON.stringify(patch)}`);
  if (patch.$retainKeys !== undefined) {
    if (!Array.isArray(patch.$retainKeys)) throw badRequest('invalid patch: $retainKeys must be a list');
    const keep = new Set(patch.$retainKeys as string[]);
    for (const k of Object.keys(original)) if (!keep.has(k)) delete original[k];
  }
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith(DELETE_PRIMITIVE)) {
      const field = key.slice(DELETE_PRIMITIVE.length);
      if (!Array.isArray(value)) throw badRequest('invalid patch: $deleteFromPrimitiveList must be a list');
      if (Array.isArray(original[field])) original[field] = (original[field] as unknown[]).filter((v) => !value.includes(v));
    }
  }
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$')) continue;
    if (value === null) {
      delete original[key];
      continue;
    }
    const merged = mergeValue(original[key], value, join(path, key), schema);
    if (merged === undefined) delete original[key];
    else original[key] = merged;
  }
  for (const [key, value] of Object.entries(patch)) {
    if (!key.startsWith(SET_ORDER)) continue;
    const field = key.slice(SET_ORDER.length);
    const strategy = schema[join(path, field)];
    if (!Array.isArray(value)) throw badRequest('invalid patch: $setElementOrder must be a list');
    if (Array.isArray(original[field])) original[field] = reorder(original[field] as unknown[], value, strategy?.key);
  }
  return original;
}

function mergeValue(original: unknown, value: unknown, path: string, schema: Record<string, ListStrategy>): unknown {
  if (isObject(value)) {
    return mergeMap(isObject(original) ? original : {}, value, path, schema);
  }
  if (Array.isArray(value)) {
    const strategy = schema[path];
    if (!strategy) return stripDirectives(value);
    const base = Array.isArray(original) ? original : [];
    return strategy.key ? mergeKeyedList(base, value, strategy.key, path, schema) : unionPrimitives(base, value);
  }
  return value;
}

/** Items merge by key; `{key, $patch: delete}` removes one; `{$patch: replace}` replaces the whole list. */
function mergeKeyedList(original: unknown[], patch: unknown[], key: string, path: string, schema: Record<string, ListStrategy>): unknown[] {
  if (patch.some((item) => isObject(item) && item.$patch === 'replace')) {
    return stripDirectives(patch.filter((item) => !(isObject(item) && item.$patch === 'replace'))) as unknown[];
  }
  const result = original.map((item) => clone(item));
  for (const item of patch) {
    if (!isObject(item)) throw badRequest(`invalid patch: list ${path} expects objects`);
    if (!Object.hasOwn(item, key)) {
      throw internalError(`map: ${JSON.stringify(item)} does not contain declared merge key: ${key}`);
    }
    const index = result.findIndex((r) => isObject(r) && r[key] === item[key]);
    if (item.$patch === 'delete') {
      if (index >= 0) result.splice(index, 1);
      continue;
    }
    if (index >= 0) {
      const merged = mergeMap(result[index] as Record<string, unknown>, item, `${path}[]`, schema);
      if (merged === undefined) result.splice(index, 1);
      else result[index] = merged;
    } else {
      result.push(mergeMap({}, item, `${path}[]`, schema));
    }
  }
  return result;
}

function unionPrimitives(original: unknown[], patch: unknown[]): unknown[] {
  const out = [...original];
  for (const v of patch) if (!out.includes(v)) out.push(v);
  return out;
}

/** Orders `list` as `order` names it (by merge key, or value for primitives); unnamed items keep their place at the end. */
function reorder(list: unknown[], order: unknown[], key: string | undefined): unknown[] {
  const id = (v: unknown) => (key && isObject(v) ? v[key] : v);
  const wanted = order.map((o) => id(o));
  const named = wanted.map((w) => list.find((item) => id(item) === w)).filter((v) => v !== undefined);
  const rest = list.filter((item) => !wanted.includes(id(item)));
  return [...named, ...rest];
}

/** Removes $-directives from a value that is being set rather than merged. */
function stripDirectives(value: unknown): unknown {
  if (Array.isArray(value)) return value.filter((v) => !(isObject(v) && v.$patch === 'delete')).map(stripDirectives);
  if (!isObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (!k.startsWith('$')) out[k] = stripDirectives(v);
  return out;
}
