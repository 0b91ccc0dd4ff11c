/**
 * Authentication and authorization of kubelet API requests the way the kubelet does them
 * (--authentication-token-webhook, --authorization-mode=Webhook): a bearer token is checked
 * with a TokenReview, a verified client certificate gives user = CN and groups = O, and the
 * request attributes (nodes/proxy, nodes/stats, ...) go to a SubjectAccessReview. Answers
 * are cached (allowed 5 min, denied 30 s — the kubelet's webhook cache defaults).
 */
import { createHash } from 'node:crypto';
import type { RequestAuthorizer } from './api/deps.ts';
import type { Kube, KubeObject } from './kube-client.ts';

interface User {
  username: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

const ALLOW_TTL = 300_000;
const DENY_TTL = 30_000;

export function apiServerAuthorizer(kube: Kube, now: () => number = Date.now): RequestAuthorizer {
  const cache = new Map<string, { at: number; ttl: number; value: unknown }>();
  const cached = async <T>(key: string, compute: () => Promise<T>, ttl: (v: T) => number): Promise<T> => {
    const hit = cache.get(key);
    if (hit && now() - hit.at < hit.ttl) return hit.value as T;
    const value = await compute();
    if (cache.size > 10_000) cache.clear();
    cache.set(key, { at: now(), ttl: ttl(value), value });
    return value;
  };
  const authenticate = (token: string) => cached(`t:${sha(token)}`, async () => {
    const res = await kube.request('POST', '/apis/authentication.k8s.io/v1/tokenreviews', {
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } },
    });
    return res.status?.authenticated ? (res.status.user as User) : undefined;
  }, (u) => (u ? ALLOW_TTL : DENY_TTL));
  return async ({ token, clientCert, attributes }) => {
    const user: User | undefined = clientCert
      ? { username: clientCert.commonName, groups: [...clientCert.organizations] }
      : token ? await authenticate(token) : undefined;
    if (!user) return 'unauthenticated';
    const { verb, resource, subresource, name } = attributes;
    const allowed = await cached(`a:${sha(JSON.stringify([user, verb, subresource, name]))}`, async () => {
      const spec: KubeObject = { user: user.username, groups: user.groups, uid: user.uid, extra: user.extra, resourceAttributes: { verb, resource, subresource, name } };
      const res = await kube.request('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
        body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec },
      });
      return res.status?.allowed === true;
    }, (ok) => (ok ? ALLOW_TTL : DENY_TTL));
    return allowed ? 'allow' : 'forbidden';
  };
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
