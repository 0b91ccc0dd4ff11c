/**
 * Service-account tokens from the TokenRequest API, bound to the pod (boundObjectRef), with
 * the audience and lifetime the projected volume asks for. A token is reused until 80 % of
 * its lifetime has passed, then a fresh one is requested — the kubelet's refresh rule.
 */
import type { Kube, KubeObject } from '../kube-client.ts';
import { paths } from '../kube-client.ts';
import type { IssuedToken } from './sources.ts';

interface Entry {
  readonly token: IssuedToken;
  readonly refreshAt: number;
}

export class TokenCache {
  readonly #kube: Kube;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();

  constructor(kube: Kube, now: () => number = Date.now) {
    this.#kube = kube;
    this.#now = now;
  }

  /** A token for the pod's service account; requests a new one when none is fresh enough. */
  async get(pod: KubeObject, audience: string | undefined, expirationSeconds: number): Promise<IssuedToken> {
    const meta = pod.metadata;
    const sa: string = pod.spec?.serviceAccountName || 'default';
    const key = `${meta.uid}\0${sa}\0${audience ?? ''}\0${expirationSeconds}`;
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
    const res = await this.#kube.request('POST', paths.token(meta.namespace, sa), { body });
    const expiresAt = Date.parse(res.status?.expirationTimestamp ?? '') || now + expirationSeconds * 1000;
    const token = { token: String(res.status?.token ?? ''), expiresAt };
    this.#entries.set(key, { token, refreshAt: now + 0.8 * (expiresAt - now) });
    return token;
  }

  /** Drops the pod's tokens (pod gone). */
  forget(uid: string): void {
    for (const key of this.#entries.keys()) if (key.startsWith(`${uid}\0`)) this.#entries.delete(key);
  }
}
