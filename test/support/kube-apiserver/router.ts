// The HTTP entry: authenticates, authorizes, and routes each request to discovery, the
// registry, watches or a subresource handler.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { authenticate, authorize, forbiddenMessage, type Attributes, type UserInfo } from './auth.ts';
import type { ServerContext } from './context.ts';
import { apiGroup, coreVersions, groupList, resourceList, versionInfo } from './discovery.ts';
import { decodeBody, mediaType, readRaw, sendError, sendJson } from './http.ts';
import { nodeRestriction } from './node-restriction.ts';
import { parseRequestInfo, type RequestInfo } from './request-info.ts';
import { fieldEquals } from './selectors.ts';
import { forbidden, pathNotFound, unauthorized } from './status.ts';
import { findResource } from './resources.ts';
import { notImplemented } from './subresources.ts';
import { serveResource } from './resource-handlers.ts';

/** Handles one request; never throws (errors become Status responses). */
export async function handleRequest(ctx: ServerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const info = parseRequestInfo(req.method ?? 'GET', url);
    const user = authenticate(req.headers.authorization, ctx.tokens, ctx.issuer, ctx.store);
    if (!user) throw unauthorized();
    const attrs = attributesOf(user, info, url);
    const decision = authorize(attrs, ctx.admins, ctx.store, ctx.authorizeHook);
    if (!decision.allowed) {
      const gr = { group: info.group, resource: info.resource };
      throw forbidden(info.resourceRequest ? gr : { group: '', resource: '' }, attrs.name, forbiddenMessage(attrs, decision.reason));
    }
    if (!info.resourceRequest || !info.resource) return serveDiscovery(ctx, info, res);
    // Refused loudly rather than ignored: a dry run here would write.
    if (url.searchParams.has('dryRun')) throw notImplemented('dryRun');
    const def = findResource(info.group, info.version, info.resource);
    if (!def || (def.namespaced === false && info.namespace && info.resource !== 'namespaces')) throw pathNotFound();
    const type = mediaType(req);
    // Proxied requests keep their body unread: it streams to the kubelet.
    const hasBody = ['POST', 'PUT', 'PATCH', 'DELETE'].includes(req.method ?? '') && info.subresource !== 'proxy';
    const body = hasBody ? decodeBody(await readRaw(req), type) : undefined;
    await serveResource(ctx, { def, info, url, body, raw: req, contentType: type, accept: req.headers.accept, admit: nodeRestriction(ctx.store, attrs) }, res);
  } catch (err) {
    sendError(res, err);
  }
}

function attributesOf(user: UserInfo, info: RequestInfo, url: URL): Attributes {
  const fieldSelector = url.searchParams.get('fieldSelector') ?? undefined;
  const labelSelector = url.searchParams.get('labelSelector') ?? undefined;
  // list/watch narrowed to one name by metadata.name= are authorized as that name, like RequestInfoFactory does.
  const name = info.name || (['list', 'watch'].includes(info.verb) ? fieldEquals(fieldSelector)['metadata.name'] ?? '' : '');
  return {
    user, verb: info.verb, resourceRequest: info.resourceRequest && info.resource !== '', path: info.path, group: info.group,
    version: info.version, resource: info.resource, subresource: info.subresource, namespace: info.namespace, name, fieldSelector, labelSelector,
  };
}

function serveDiscovery(ctx: ServerContext, info: RequestInfo, res: ServerResponse): void {
  const path = info.path.replace(/\/+$/, '') || '/';
  if (info.verb !== 'get') throw pathNotFound();
  if (['/healthz', '/livez', '/readyz'].includes(path)) {
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
    return void res.end('ok');
  }
  if (path === '/version') return sendJson(res, 200, versionInfo());
  if (path === '/api') return sendJson(res, 200, coreVersions(ctx.address));
  if (path === '/apis') return sendJson(res, 200, groupList());
  const parts = path.split('/').filter(Boolean);
  if (parts[0] === 'api' && parts.length === 2) {
    const list = resourceList('', parts[1]);
    if (list) return sendJson(res, 200, list);
  }
  if (parts[0] === 'apis' && parts.length === 2) {
    const group = apiGroup(parts[1]);
    if (group) return sendJson(res, 200, group);
  }
  if (parts[0] === 'apis' && parts.length === 3) {
    const list = resourceList(parts[1], parts[2]);
    if (list) return sendJson(res, 200, list);
  }
  throw pathNotFound();
}
