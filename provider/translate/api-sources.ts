/**
 * Sources backed by the API server (GETs through the rate-limited client). Objects found
 * are kept for a few seconds and concurrent reads of one object share one request — the
 * kubelet's TTL "Cache" strategy for configMaps and secrets — so a burst of pods in one
 * namespace (all mounting kube-root-ca.crt) costs one GET, not one per pod. A missing
 * object is never cached: CreateContainerConfigError retries see it as soon as it exists.
 */
import { isNotFound, paths, type Kube, type KubeObject } from '../kube-client.ts';
import type { Sources } from './sources.ts';
import { TokenCache } from './token-cache.ts';

export interface ApiSourcesOptions {
  /** How long a found object is reused (default 5 s; 0 disables the cache). */
  ttlMs?: number;
  now?: () => number;
}

export function apiSources(kube: Kube, tokens: TokenCache = new TokenCache(kube), options: ApiSourcesOptions = {}): Sources & { readonly tokens: TokenCache } {
  const ttl = options.ttlMs ?? 5000;
  const now = options.now ?? Date.now;
  const cache = new Map<string, { at: number; value: Promise<KubeObject | undefined> }>();
  const fetchObject = async (path: string): Promise<KubeObject | undefined> => {
    try {
      return await kube.request('GET', path);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  };
  const get = (path: string): Promise<KubeObject | undefined> => {
    const hit = cache.get(path);
    if (hit && now() - hit.at < ttl) return hit.value;
    const value = fetchObject(path);
    cache.set(path, { at: now(), value });
    // Only found objects stay: a miss or a failure is asked again next time.
    const forget = () => cache.get(path)?.value === value && cache.delete(path);
    value.then((v) => v === undefined && forget(), forget);
    if (cache.size > 5000) for (const [k, e] of cache) if (now() - e.at >= ttl) cache.delete(k);
    return value;
  };
  return {
    tokens,
    configMap: (ns, name) => get(paths.configMap(ns, name)),
    secret: (ns, name) => get(paths.secret(ns, name)),
    runtimeClass: (name) => get(paths.runtimeClass(name)),
    serviceAccountToken: (pod, audience, seconds) => tokens.get(pod, audience, seconds),
  };
}
