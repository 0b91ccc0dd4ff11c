/**
 * Authentication and authorization of kubelet API requests, through the provider-supplied
 * `RequestAuthorizer` hook. The request → attributes mapping is the kubelet's own
 * (pkg/kubelet/server/auth.go): verb from the method, `nodes/<name>` with subresource
 * `stats`, `metrics` or `log` for those path prefixes and `proxy` for everything else
 * (containerLogs, exec, attach, pods, healthz).
 */
import type { TLSSocket } from 'node:tls';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { BurstletError } from '../../src/errors.ts';
import type { ClientCertIdentity, RequestAttributes, RequestAuthorizer } from './deps.ts';

const VERBS: Record<string, string> = { GET: 'get', HEAD: 'get', POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };

const isSubpath = (path: string, prefix: string): boolean => path === prefix || path.startsWith(`${prefix}/`);

/** The kubelet's authorization attributes for a method and URL path. */
export function requestAttributes(method: string, path: string, nodeName: string): RequestAttributes {
  const subresource = isSubpath(path, '/stats') ? 'stats' : isSubpath(path, '/metrics') ? 'metrics' : isSubpath(path, '/logs') ? 'log' : 'proxy';
  return { verb: VERBS[method] ?? method.toLowerCase(), resource: 'nodes', subresource, name: nodeName, path };
}

/** The bearer token of a request, if any. */
export function bearerToken(request: FastifyRequest): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
  return m?.[1];
}

// A client certificate counts only when the TLS layer verified it against the client CA.
function clientCert(request: FastifyRequest): ClientCertIdentity | undefined {
  const socket = request.raw.socket as TLSSocket;
  if (typeof socket.getPeerCertificate !== 'function' || !socket.authorized) return undefined;
  const subject = socket.getPeerCertificate().subject;
  if (!subject?.CN) return undefined;
  const o = subject.O as string | string[] | undefined;
  return { commonName: String(subject.CN), organizations: o === undefined ? [] : Array.isArray(o) ? o : [o] };
}

/** Adds an onRequest hook that answers 401/403 before any route runs (WebSocket upgrades too). */
export function installAuth(app: FastifyInstance, authorize: RequestAuthorizer, nodeName: string): void {
  app.addHook('onRequest', async (request) => {
    const attributes = requestAttributes(request.method, request.url.split('?')[0]!, nodeName);
    const decision = await authorize({ token: bearerToken(request), clientCert: clientCert(request), attributes });
    if (decision === 'allow') return;
    if (decision === 'unauthenticated') throw new BurstletError('UNAUTHORIZED', 'Unauthorized');
    const { verb, resource, subresource, name } = attributes;
    throw new BurstletError('POD_FORBIDDEN', `Forbidden (user may not ${verb} ${resource}/${subresource} ${name})`);
  });
}
