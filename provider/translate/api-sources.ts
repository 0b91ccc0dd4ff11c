/** Sources backed by the API server (GETs through the rate-limited client). */
import { isNotFound, paths, type Kube, type KubeObject } from '../kube-client.ts';
import type { Sources } from './sources.ts';
import { TokenCache } from './token-cache.ts';

export function apiSources(kube: Kube, tokens: TokenCache = new TokenCache(kube)): Sources & { readonly tokens: TokenCache } {
  const get = async (path: string): Promise<KubeObject | undefined> => {
    try {
      return await kube.request('GET', path);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  };
  return {
    tokens,
    configMap: (ns, name) => get(paths.configMap(ns, name)),
    secret: (ns, name) => get(paths.secret(ns, name)),
    runtimeClass: (name) => get(paths.runtimeClass(name)),
    serviceAccountToken: (pod, audience, seconds) => tokens.get(pod, audience, seconds),
  };
}
