// JSON merge patch (RFC 7386) and JSON patch (RFC 6902), as PATCH applies them.
import { ApiError, badRequest } from './status.ts';
import { clone, isObject, jsonEqual } from './objects.ts';

/** RFC 7386: objects merge recursively, null deletes, anything else (arrays too) replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return clone(patch);
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

interface Operation {
  op: string;
  path: string;
  from?: string;
  value?: unknown;
}

/** A failed JSON patch: the apiserver answers 422 with the patch library's message. */
function patchFailed(message: string): ApiError {
  return new ApiError(422, 'Invalid', message, { causes: [{ reason: 'UnexpectedServerResponse', message }] });
}

function decodePointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw badRequest(`invalid JSON pointer: ${path}`);
  return path.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

type Container = Record<string, unknown> | unknown[];

/** Resolves the parent container of a pointer and the last token. */
function parentOf(doc: unknown, path: string, op: string): { parent: Container; key: string } {
  const tokens = decodePointer(path);
  if (tokens.length === 0) throw patchFailed(`${op} operation does not apply: doc is missing path: "${path}"`);
  let node: unknown = doc;
  for (const token of tokens.slice(0, -1)) {
    node = Array.isArray(node) ? node[Number(token)] : isObject(node) ? node[token] : undefined;
    if (node === undefined) throw patchFailed(`${op} operation does not apply: doc is missing path: "${path}": missing value`);
  }
  if (!Array.isArray(node) && !isObject(node)) throw patchFailed(`${op} operation does not apply: doc is missing path: "${path}"`);
  return { parent: node, key: tokens[tokens.length - 1] };
}

function arrayIndex(arr: unknown[], key: string, path: string, allowEnd: boolean): number {
  if (allowEnd && key === '-') return arr.length;
  const i = Number(key);
  if (!/^\d+$/.test(key) || i > arr.length || (!allowEnd && i >= arr.length)) {
    throw patchFailed(`Unable to access invalid index: ${key}: invalid index referenced: ${path}`);
  }
  return i;
}

function getAt(doc: unknown, path: string, op: string): unknown {
  if (path === '') return doc;
  const { parent, key } = parentOf(doc, path, op);
  const value = Array.isArray(parent) ? parent[arrayIndex(parent, key, path, false)] : parent[key];
  if (value === undefined) throw patchFailed(`${op} operation does not apply: doc is missing path: "${path}": missing value`);
  return value;
}

function addAt(doc: unknown, path: string, value: unknown): unknown {
  if (path === '') return value;
  const { parent, key } = parentOf(doc, path, 'add');
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, path, true), 0, value);
  else parent[key] = value;
  return doc;
}

function removeAt(doc: unknown, path: string, op: string): unknown {
  const { parent, key } = parentOf(doc, path, op);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, path, false), 1);
  else {
    if (!Object.hasOwn(parent, key)) throw patchFailed(`${op} operation does not apply: doc is missing path: "${path}": missing value`);
    delete parent[key];
  }
  return doc;
}

function applyOne(doc: unknown, op: Operation): unknown {
  switch (op.op) {
    case 'add': return addAt(doc, op.path, clone(op.value));
    case 'remove': return removeAt(doc, op.path, 'remove');
    case 'replace': {
      getAt(doc, op.path, 'replace');
      if (op.path === '') return clone(op.value);
      const { parent, key } = parentOf(doc, op.path, 'replace');
      if (Array.isArray(parent)) parent[arrayIndex(parent, key, op.path, false)] = clone(op.value);
      else parent[key] = clone(op.value);
      return doc;
    }
    case 'move': {
      const value = getAt(doc, op.from ?? '', 'move');
      return addAt(removeAt(doc, op.from ?? '', 'move'), op.path, value);
    }
    case 'copy': return addAt(doc, op.path, clone(getAt(doc, op.from ?? '', 'copy')));
    case 'test': {
      const actual = getAt(doc, op.path, 'test');
      if (!jsonEqual(actual, op.value)) throw patchFailed(`testing value ${op.path} failed: test failed`);
      return doc;
    }
    default: throw badRequest(`Unexpected kind: ${op.op}`);
  }
}

/** RFC 6902 applied atomically: any failing operation (a `test` included) leaves nothing applied. */
export function jsonPatch(target: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  let doc = clone(target);
  for (const op of ops) {
    if (!isObject(op) || typeof op.op !== 'string' || typeof op.path !== 'string') throw badRequest(`invalid JSON patch operation: ${JSON.stringify(op)}`);
    doc = applyOne(doc, op as unknown as Operation);
  }
  return doc;
}
