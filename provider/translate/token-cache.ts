/**
 * Service-account tokens from the TokenRequest API, bound to the pod (boundObjectRef), with
 * the audience and lifetime the projected volume asks for. A token is reused until 80 % of
 * its lifetime has passed (or 24 h), then a fresh one is requested — the kubelet's token
 * manager rule. The lifetime is the one the API server states (status.expirationTimestamp).
 */
import type { Kube, KubeObject, RequestBudget } from '../kube-client.ts';
import { paths } from '../kube-client.ts';
import type { IssuedToken } from './sources.ts';

/** A token held for a pod and when it is due for a refresh (ms since the epoch). */
export interface TokenEntry {
  readonly token: IssuedToken;
  readonly refreshAt: number;
}

const MAX_AGE_MS = 24 * 3600 * 1000;

export class TokenCache {
  readonly #kube: Kube;
  readonly #now: () => number;
  readonly #entries = new Map<string, TokenEntry>();

  constructor(kube: Kube, now: () => number = Date.now) {
    this.#kube = kube;
    this.#now = now;
  }

  /** The token held for this projection, fresh or not, without any request. */
  peek(pod: KubeObject, audience: string | undefined, expirationSeconds: number): TokenEntry | undefined {
    return this.#entries.get(keyOf(pod, audience, expirationSeconds));
  }

  /**
   * A token for the pod's service account; requests a new one (on `budget`, default the
   * main one) when none is fresh enough.
   */
  async get(pod: KubeObject, audience: string | undefined, expirationSeconds: number, budget?: RequestBudget): Promise<IssuedToken> {
    const meta = pod.metadata;
    const sa: string = pod.spec?.serviceAccountName || 'default';
    const key = keyOf(pod, audience, expirationSeconds);
    const cached = this.#entries.get(key);
    const now = this.#now();
    if (cached && now < cached.refreshAt) return cached.token;
    const body = {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: {
        audiences: audience ? [audience] : [],
        expirationSeconds,
        boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: meta.name, uid: meta.uid },
      },
    };
    const res = await this.#kube.request('POST', paths.token(meta.namespace, sa), { body, budget });
    const expiresAt = Date.parse(res.status?.expirationTimestamp ?? '') || now + expirationSeconds * 1000;
    const token = { token: String(res.status?.token ?? ''), expiresAt };
    this.#entries.set(key, { token, refreshAt: Math.round(now + Math.min(0.8 * (expiresAt - now), MAX_AGE_MS)) });
    return token;
  }

  /** Drops the pod's tokens (pod gone). */
  forget(uid: string): void {
    for (const key of this.#entries.keys()) if (key.startsWith(`${uid}\0`)) this.#entries.delete(key);
  }
}

function keyOf(pod: KubeObject, audience: string | undefined, expirationSeconds: number): string {
  const sa: string = pod.spec?.serviceAccountName || 'default';
  return `${pod.metadata.uid}\0${sa}\0${audience ?? ''}\0${expirationSeconds}`;
}
