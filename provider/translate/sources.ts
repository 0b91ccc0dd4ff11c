/**
 * What translation reads from the cluster, behind one small interface so the pure
 * translation code is tested with plain objects and the provider backs it with the API.
 */
import type { KubeObject } from '../kube-client.ts';

/** A token issued through the TokenRequest API. */
export interface IssuedToken {
  readonly token: string;
  /** Expiry in ms since the epoch. */
  readonly expiresAt: number;
}

/**
 * Cluster objects a pod refers to. Lookups resolve `undefined` when the object does not
 * exist (the caller decides whether that is fatal) and reject on any other failure.
 */
export interface Sources {
  configMap(namespace: string, name: string): Promise<KubeObject | undefined>;
  secret(namespace: string, name: string): Promise<KubeObject | undefined>;
  runtimeClass(name: string): Promise<KubeObject | undefined>;
  /** A token bound to the pod for its service account (TokenRequest). */
  serviceAccountToken(pod: KubeObject, audience: string | undefined, expirationSeconds: number): Promise<IssuedToken>;
}
