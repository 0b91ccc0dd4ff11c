// Verb handlers for a resolved resource request: get, list, watch, create, update, patch,
// delete, deletecollection, the status subresource and the POST subresources.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ServerContext } from './context.ts';
import { toListItem, toWire } from './convert.ts';
import type { DeleteOptions } from './deletion.ts';
import { sendJson } from './http.ts';
import { deleteNamespace, populateNamespace } from './namespaces.ts';
import type { AdmitFn } from './node-restriction.ts';
import { isObject, type KubeObject } from './objects.ts';
import { compileSelector, type ListQuery } from './registry.ts';
import { apiVersionOf, type ResourceDef } from './resources.ts';
import type { RequestInfo } from './request-info.ts';
import { reviewSubjectAccess, reviewToken } from './reviews.ts';
import { badRequest, methodNotAllowed, pathNotFound } from './status.ts';
import { bindPod, evictPod, notImplemented, requestToken } from './subresources.ts';
import { serveWatch } from './watch.ts';
import { forward, kubeletBase, podLogTarget } from './kubelet-proxy.ts';
import { toTable, wantsTable } from './table.ts';

/** A request whose resource is known, with its decoded body. */
export interface ResourceRequest {
  def: ResourceDef;
  info: RequestInfo;
  url: URL;
  body: unknown;
  /** The request itself, for bodies streamed through (nodes/proxy). */
  raw: IncomingMessage;
  contentType: string;
  /** The Accept header: kubectl asks for Tables. */
  accept?: string;
  /** NodeRestriction check for node identities. */
  admit?: AdmitFn;
}

function intParam(url: URL, name: string): number | undefined {
  const v = url.searchParams.get(name);
  if (v === null || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw badRequest(`invalid value for ${name}: ${v}`);
  return Number(v);
}

function listQuery(url: URL): ListQuery {
  const p = url.searchParams;
  return { labelSelector: p.get('labelSelector'), fieldSelector: p.get('fieldSelector'), limit: intParam(url, 'limit'), continue: p.get('continue'), resourceVersion: p.get('resourceVersion') };
}

function deleteOptions(url: URL, body: unknown): DeleteOptions {
  const b = isObject(body) ? body : {};
  const grace = typeof b.gracePeriodSeconds === 'number' ? b.gracePeriodSeconds : intParam(url, 'gracePeriodSeconds');
  const pre = isObject(b.preconditions) ? b.preconditions : {};
  return {
    gracePeriodSeconds: grace,
    preconditions: { uid: typeof pre.uid === 'string' ? pre.uid : undefined, resourceVersion: typeof pre.resourceVersion === 'string' ? pre.resourceVersion : undefined },
  };
}

function listBody(def: ResourceDef, items: KubeObject[], meta: Record<string, unknown>): Record<string, unknown> {
  return { kind: `${def.kind}List`, apiVersion: apiVersionOf(def), metadata: meta, items: items.map((i) => toListItem(def, i)) };
}

/** Routes by subresource and verb; throws ApiError for anything not served. */
export async function serveResource(ctx: ServerContext, r: ResourceRequest, res: ServerResponse): Promise<void> {
  const { def, info } = r;
  const sub = info.subresource;
  if (sub && !def.subresources.includes(sub)) throw pathNotFound();
  if (sub === 'status') return serveStatus(ctx, r, res);
  if (sub === 'log' && info.verb === 'get') {
    const pod = ctx.registry.getStored(def, info.namespace, info.name);
    return forward(podLogTarget(ctx.store, pod, r.url, ctx.kubelet), ctx.kubelet, r.raw, res, 'log');
  }
  if (sub === 'proxy') {
    const prefix = `/api/v1/nodes/${encodeURIComponent(info.name)}/proxy`;
    const path = r.url.pathname.startsWith(prefix) ? r.url.pathname.slice(prefix.length) || '/' : `/${info.rest.join('/')}`;
    return forward(`${kubeletBase(ctx.store, info.name, ctx.kubelet)}${path}${r.url.search}`, ctx.kubelet, r.raw, res, 'proxy');
  }
  // Streaming upgrades (SPDY/WebSocket) towards the kubelet are not implemented.
  if (['log', 'finalize', 'exec', 'attach', 'portforward'].includes(sub)) throw notImplemented(`${def.resource}/${sub}`);
  if (sub) {
    if (info.verb !== 'create') throw methodNotAllowed();
    const ns = info.namespace;
    if (sub === 'binding') return sendJson(res, 201, bindPod(ctx, ns, info.name, r.body));
    if (sub === 'eviction') return sendJson(res, 201, evictPod(ctx, ns, info.name, r.body, r.admit));
    if (sub === 'token') return sendJson(res, 201, requestToken(ctx, ns, info.name, r.body, r.admit));
    throw pathNotFound();
  }
  if (!def.verbs.includes(info.verb)) throw methodNotAllowed();
  serveMain(ctx, r, res);
}

const namespaceOf = (r: ResourceRequest) => (r.def.namespaced ? r.info.namespace || undefined : undefined);

function serveMain(ctx: ServerContext, r: ResourceRequest, res: ServerResponse): void {
  const { def, info, url } = r;
  const ns = namespaceOf(r);
  if (def.namespaced && !ns && !['list', 'watch', 'deletecollection'].includes(info.verb)) throw pathNotFound();
  switch (info.verb) {
    case 'get': {
      const obj = ctx.registry.get(def, ns, info.name);
      return sendJson(res, 200, wantsTable(r.accept) ? toTable(def, [obj], { resourceVersion: obj.metadata.resourceVersion }) : obj);
    }
    case 'list': {
      const result = ctx.registry.list(def, ns, listQuery(url));
      const meta: Record<string, unknown> = { resourceVersion: result.resourceVersion };
      if (result.continue) Object.assign(meta, { continue: result.continue, remainingItemCount: result.remainingItemCount });
      return sendJson(res, 200, wantsTable(r.accept) ? toTable(def, result.items, meta) : listBody(def, result.items, meta));
    }
    case 'watch': return startWatch(ctx, r, res);
    case 'create': return serveCreate(ctx, r, res);
    case 'update': {
      const { object, created } = ctx.registry.update(def, ns, info.name, r.body, '', r.admit);
      return sendJson(res, created ? 201 : 200, object);
    }
    case 'patch': return sendJson(res, 200, ctx.registry.patch(def, ns, info.name, r.contentType, r.body, '', r.admit));
    case 'delete': {
      if (def.kind === 'Namespace') return sendJson(res, 200, toWire(def, deleteNamespace(ctx.store, info.name, ctx.registry.getStored(def, undefined, info.name))));
      return sendJson(res, 200, ctx.registry.delete(def, ns, info.name, deleteOptions(url, r.body), r.admit).body);
    }
    case 'deletecollection': {
      const matches = ctx.registry.list(def, ns, listQuery(url)).items;
      const options = deleteOptions(url, r.body);
      const deleted = matches.map((o) => ctx.registry.delete(def, o.metadata.namespace, o.metadata.name!, options, r.admit).body as KubeObject);
      return sendJson(res, 200, listBody(def, deleted.filter((o) => o.kind !== 'Status'), { resourceVersion: String(ctx.store.resourceVersion) }));
    }
    default: throw methodNotAllowed();
  }
}

function serveCreate(ctx: ServerContext, r: ResourceRequest, res: ServerResponse): void {
  const { def } = r;
  if (def.resource === 'tokenreviews') return sendJson(res, 201, reviewToken(ctx, r.body));
  if (def.resource === 'subjectaccessreviews') return sendJson(res, 201, reviewSubjectAccess(ctx, r.body));
  const created = ctx.registry.create(def, namespaceOf(r), r.body, r.admit);
  if (def.kind === 'Namespace') populateNamespace(ctx.store, created.metadata.name!, ctx.caCert);
  sendJson(res, 201, created);
}

function serveStatus(ctx: ServerContext, r: ResourceRequest, res: ServerResponse): void {
  const { def, info } = r;
  const ns = namespaceOf(r);
  switch (info.verb) {
    case 'get': return sendJson(res, 200, ctx.registry.get(def, ns, info.name));
    case 'update': return sendJson(res, 200, ctx.registry.update(def, ns, info.name, r.body, 'status', r.admit).object);
    case 'patch': return sendJson(res, 200, ctx.registry.patch(def, ns, info.name, r.contentType, r.body, 'status', r.admit));
    default: throw methodNotAllowed();
  }
}

function startWatch(ctx: ServerContext, r: ResourceRequest, res: ServerResponse): void {
  const { def, info, url } = r;
  const p = url.searchParams;
  const timeout = intParam(url, 'timeoutSeconds');
  // kubectl get -w asks for Tables: each event then carries a one-row Table.
  const present = wantsTable(r.accept)
    ? (obj: KubeObject) => toTable(def, [toWire(def, obj)], { resourceVersion: obj.metadata.resourceVersion }) as unknown as KubeObject
    : (obj: KubeObject) => toWire(def, obj);
  serveWatch(ctx.store, {
    storage: def.storage, namespace: namespaceOf(r), name: info.name || undefined,
    matches: compileSelector(def, p.get('labelSelector'), p.get('fieldSelector')),
    present, resourceVersion: p.get('resourceVersion') ?? undefined,
    allowBookmarks: p.get('allowWatchBookmarks') === 'true', timeoutSeconds: timeout && timeout > 0 ? timeout : undefined,
    bookmarkIntervalMs: ctx.bookmarkIntervalMs, apiVersion: apiVersionOf(def), kind: def.kind,
  }, res, ctx.watchClosers);
}
