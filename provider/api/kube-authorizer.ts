/**
 * The kubelet's delegated authentication and authorization as a `RequestAuthorizer`: bearer
 * tokens through a TokenReview, client certificates as user = CN and groups = O, then a
 * SubjectAccessReview for the request's attributes (nodes/<node> proxy|stats|metrics|log).
 * Answers are cached like the kubelet's webhook caches (authentication 2 min; authorization
 * 5 min when allowed, 30 s when denied). Requests without credentials are unauthenticated
 * (the kubelet with anonymous auth off). API server errors reject (→ 500), never allow.
 */
import type { ClientCertIdentity, RequestAttributes, RequestAuthorizer } from './deps.ts';

/** What the authorizer needs from a Kubernetes client (provider/kube-client.ts `Kube` fits). */
export interface ReviewClient {
  request<T>(method: string, path: string, options?: { body?: unknown }): Promise<T>;
}

export interface KubeAuthorizerOptions {
  authnTtlMs?: number;
  allowTtlMs?: number;
  denyTtlMs?: number;
  /** Audiences a token must be valid for (TokenReview spec.audiences); default: the API server's. */
  audiences?: string[];
  /** Most entries kept per cache; the oldest go first. */
  maxEntries?: number;
  now?: () => number;
}

interface User {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

interface TokenReviewStatus {
  status?: { authenticated?: boolean; user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> } };
}

interface AccessReviewStatus {
  status?: { allowed?: boolean };
}

/** A small TTL cache in insertion order (a Map), bounded by dropping the oldest entries. */
class TtlCache<V> {
  readonly #entries = new Map<string, { value: V; until: number }>();
  readonly #max: number;
  readonly #now: () => number;
  constructor(max: number, now: () => number) {
    this.#max = max;
    this.#now = now;
  }
  get(key: string): V | undefined {
    const e = this.#entries.get(key);
    if (e && e.until > this.#now()) return e.value;
    this.#entries.delete(key);
    return undefined;
  }
  set(key: string, value: V, ttlMs: number): void {
    this.#entries.delete(key);
    this.#entries.set(key, { value, until: this.#now() + ttlMs });
    while (this.#entries.size > this.#max) this.#entries.delete(this.#entries.keys().next().value!);
  }
}

export function kubeAuthorizer(kube: ReviewClient, options: KubeAuthorizerOptions = {}): RequestAuthorizer {
  const now = options.now ?? Date.now;
  const max = options.maxEntries ?? 10_000;
  const tokens = new TtlCache<User | null>(max, now);
  const decisions = new TtlCache<boolean>(max, now);

  async function authenticate(token: string): Promise<User | undefined> {
    const cached = tokens.get(token);
    if (cached !== undefined) return cached ?? undefined;
    const review = await kube.request<TokenReviewStatus>('POST', '/apis/authentication.k8s.io/v1/tokenreviews', {
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, ...(options.audiences ? { audiences: options.audiences } : {}) } },
    });
    const u = review.status?.authenticated ? review.status.user : undefined;
    const user = u?.username ? { username: u.username, uid: u.uid, groups: u.groups ?? [], extra: u.extra } : null;
    tokens.set(token, user, options.authnTtlMs ?? 120_000);
    return user ?? undefined;
  }

  async function allowed(user: User, a: RequestAttributes): Promise<boolean> {
    const key = JSON.stringify([user.username, user.uid, user.groups, user.extra, a.verb, a.subresource, a.name]);
    const cached = decisions.get(key);
    if (cached !== undefined) return cached;
    const review = await kube.request<AccessReviewStatus>('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: {
          user: user.username, groups: user.groups, ...(user.uid ? { uid: user.uid } : {}), ...(user.extra ? { extra: user.extra } : {}),
          resourceAttributes: { verb: a.verb, version: 'v1', resource: a.resource, subresource: a.subresource, name: a.name },
        },
      },
    });
    const ok = review.status?.allowed === true;
    decisions.set(key, ok, ok ? (options.allowTtlMs ?? 300_000) : (options.denyTtlMs ?? 30_000));
    return ok;
  }

  const fromCert = (c: ClientCertIdentity): User => ({ username: c.commonName, groups: [...c.organizations, 'system:authenticated'] });

  return async ({ token, clientCert, attributes }) => {
    const user = clientCert ? fromCert(clientCert) : token ? await authenticate(token) : undefined;
    if (!user) return 'unauthenticated';
    return (await allowed(user, attributes)) ? 'allow' : 'forbidden';
  };
}
