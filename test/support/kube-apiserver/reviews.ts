// TokenReview and SubjectAccessReview: the delegated authn/authz APIs the kubelet API uses.
import { reviewAccess, stillBound } from './auth.ts';
import type { ServerContext } from './context.ts';
import { isObject, type KubeObject } from './objects.ts';
import { serviceAccountUser } from './tokens.ts';

type User = { user: string; uid?: string; groups: string[]; extra?: Record<string, string[]> };

/** The user and the audiences it is valid for among `wanted`, or undefined. */
function resolve(ctx: ServerContext, token: string, wanted: string[]): { user: User; audiences: string[] } | undefined {
  const claims = ctx.issuer.verify(token);
  if (claims) {
    const audiences = wanted.filter((a) => claims.aud.includes(a));
    return audiences.length > 0 && stillBound(ctx.store, claims) ? { user: serviceAccountUser(claims), audiences } : undefined;
  }
  const known = Object.hasOwn(ctx.tokens, token) ? ctx.tokens[token] : undefined;
  // Static tokens carry no audience: they are valid for the server's own audiences only.
  const audiences = wanted.filter((a) => ctx.issuer.apiAudiences.includes(a));
  if (!known || audiences.length === 0) return undefined;
  return { user: { user: known.user, groups: [...new Set([...known.groups, 'system:authenticated'])] }, audiences };
}

/** tokenreviews: authenticates spec.token for spec.audiences (default: the server's own). */
export function reviewToken(ctx: ServerContext, body: unknown): KubeObject {
  const spec = isObject(body) && isObject(body.spec) ? body.spec : {};
  const token = typeof spec.token === 'string' ? spec.token : '';
  const wanted = Array.isArray(spec.audiences) && spec.audiences.length > 0 ? (spec.audiences as string[]) : ctx.issuer.apiAudiences;
  const found = token ? resolve(ctx, token, wanted) : undefined;
  const status: Record<string, unknown> = found
    ? { authenticated: true, user: { username: found.user.user, ...(found.user.uid ? { uid: found.user.uid } : {}), groups: found.user.groups, ...(found.user.extra ? { extra: found.user.extra } : {}) }, audiences: found.audiences }
    : { user: {}, error: '[invalid bearer token, token lookup failed]' };
  return { kind: 'TokenReview', apiVersion: 'authentication.k8s.io/v1', metadata: { creationTimestamp: null as unknown as string }, spec, status };
}

/** subjectaccessreviews: evaluates the built-in authorizer for spec's user and attributes. */
export function reviewSubjectAccess(ctx: ServerContext, body: unknown): KubeObject {
  const spec = isObject(body) && isObject(body.spec) ? body.spec : {};
  const status = reviewAccess(spec, ctx.admins, ctx.store, ctx.authorizeHook);
  return { kind: 'SubjectAccessReview', apiVersion: 'authorization.k8s.io/v1', metadata: { creationTimestamp: null as unknown as string }, spec, status };
}
