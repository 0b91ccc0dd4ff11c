// Authentication (bearer tokens → users) and authorization (admins, the Node authorizer,
// public paths), with the apiserver's Forbidden wording.
import { nodeAuthorize, nodeNameOf } from './node-authorizer.ts';
import type { Store } from './store.ts';
import { serviceAccountUser, type TokenClaims, type TokenIssuer } from './tokens.ts';
import { isObject } from './objects.ts';

/** An authenticated (or anonymous) identity. */
export interface UserInfo {
  user: string;
  groups: string[];
  uid?: string;
  extra?: Record<string, string[]>;
}

/** A static token's identity, as given to startKubeApiServer({ tokens }). */
export interface TokenUser {
  user: string;
  groups: string[];
}

/** What a request asks to do, like authorizer.Attributes. */
export interface Attributes {
  user: UserInfo;
  verb: string;
  resourceRequest: boolean;
  path: string;
  group: string;
  version: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
  fieldSelector?: string;
  labelSelector?: string;
}

export interface Decision {
  allowed: boolean;
  /** Why a request was denied, appended to the Forbidden message when non-empty. */
  reason: string;
}

/** A test hook deciding a request: true/false decides, undefined defers to the built-in rules. */
export type AuthorizeHook = (attrs: Attributes) => boolean | undefined;

export const ANONYMOUS: UserInfo = { user: 'system:anonymous', groups: ['system:unauthenticated'] };

/** Resolves the Authorization header; returns undefined for a credential that does not authenticate (401). */
export function authenticate(header: string | undefined, tokens: Record<string, TokenUser>, issuer: TokenIssuer, store: Store): UserInfo | undefined {
  if (!header) return ANONYMOUS;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) return undefined;
  const token = m[1];
  const known = Object.hasOwn(tokens, token) ? tokens[token] : undefined;
  if (known) return { user: known.user, groups: [...new Set([...known.groups, 'system:authenticated'])] };
  const claims = issuer.verify(token);
  if (!claims || !claims.aud.some((a) => issuer.apiAudiences.includes(a)) || !stillBound(store, claims)) return undefined;
  return serviceAccountUser(claims);
}

/** A service-account token stays valid only while its account (and bound pod) exist unchanged and the pod is not terminating. */
export function stillBound(store: Store, claims: TokenClaims): boolean {
  const k = claims['kubernetes.io'];
  const sa = store.peek('serviceaccounts', k.namespace, k.serviceaccount.name);
  if (!sa || sa.metadata.uid !== k.serviceaccount.uid) return false;
  if (!k.pod) return true;
  const pod = store.peek('pods', k.namespace, k.pod.name);
  return pod !== undefined && pod.metadata.uid === k.pod.uid && !pod.metadata.deletionTimestamp;
}

// Non-resource paths every caller may read (system:public-info-viewer) and those needing a login (system:discovery).
const PUBLIC_PATHS = ['/version', '/healthz', '/livez', '/readyz'];
const DISCOVERY_PREFIXES = ['/api', '/apis', '/openapi'];

/** The built-in decision: custom hook, then admins, then the Node authorizer, then discovery rules. */
export function authorize(attrs: Attributes, admins: ReadonlySet<string>, store: Store, hook?: AuthorizeHook): Decision {
  const custom = hook?.(attrs);
  if (custom !== undefined) return { allowed: custom, reason: '' };
  const { user } = attrs;
  if (admins.has(user.user) || user.groups.includes('system:masters')) return { allowed: true, reason: '' };
  if (!attrs.resourceRequest) {
    if (PUBLIC_PATHS.includes(attrs.path)) return { allowed: true, reason: '' };
    const authenticated = user.groups.includes('system:authenticated');
    if (authenticated && attrs.verb === 'get' && DISCOVERY_PREFIXES.some((p) => attrs.path === p || attrs.path.startsWith(`${p}/`))) {
      return { allowed: true, reason: '' };
    }
  }
  const node = nodeNameOf(user);
  if (node !== undefined) return nodeAuthorize(store, node, attrs);
  return { allowed: false, reason: '' };
}

/** The text after `is forbidden: ` in a 403, as the apiserver's forbiddenMessage builds it. */
export function forbiddenMessage(attrs: Attributes, reason: string): string {
  let msg: string;
  if (!attrs.resourceRequest) {
    msg = `User "${attrs.user.user}" cannot ${attrs.verb} path "${attrs.path}"`;
  } else {
    const resource = attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource;
    msg = attrs.namespace
      ? `User "${attrs.user.user}" cannot ${attrs.verb} resource "${resource}" in API group "${attrs.group}" in the namespace "${attrs.namespace}"`
      : `User "${attrs.user.user}" cannot ${attrs.verb} resource "${resource}" in API group "${attrs.group}" at the cluster scope`;
  }
  return reason ? `${msg}: ${reason}` : msg;
}

/** The status a SubjectAccessReview answers for its spec. */
export function reviewAccess(spec: unknown, admins: ReadonlySet<string>, store: Store, hook?: AuthorizeHook): { allowed: boolean; reason?: string; denied?: boolean } {
  const s = isObject(spec) ? spec : {};
  const ra = isObject(s.resourceAttributes) ? s.resourceAttributes : undefined;
  const nra = isObject(s.nonResourceAttributes) ? s.nonResourceAttributes : {};
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  const attrs: Attributes = {
    user: { user: str(s.user), groups: Array.isArray(s.groups) ? (s.groups as string[]) : [], uid: str(s.uid) },
    verb: str(ra ? ra.verb : nra.verb), resourceRequest: ra !== undefined, path: str(nra.path),
    group: str(ra?.group), version: str(ra?.version), resource: str(ra?.resource), subresource: str(ra?.subresource),
    namespace: str(ra?.namespace), name: str(ra?.name),
  };
  const decision = authorize(attrs, admins, store, hook);
  return decision.allowed ? { allowed: true } : decision.reason ? { allowed: false, reason: decision.reason } : { allowed: false };
}
