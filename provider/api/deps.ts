/**
 * What the kubelet API needs from the rest of the provider. The API never talks to the
 * Kubernetes API server itself: the pod controller hands it pods through `PodSource`, and
 * everything the workers report is read from Redis.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { Redis } from 'ioredis';
import type { Keys } from '../../src/keys.ts';
import type { Logger } from '../../src/log.ts';
import type { ProviderMetrics } from '../metrics.ts';

/**
 * The pods bound to this node, as the pod controller last saw them. Implementations answer
 * from their cache (informer) and never block on the API server. Returned pods are read-only
 * and must carry `metadata.uid` (the Redis keys of logs, stats and workers are per UID).
 */
export interface PodSource {
  /** Every pod bound to the node (any phase, including terminating ones). */
  listPods(): Promise<V1Pod[]>;
  /** One pod of the node by namespace and name; undefined when the node has no such pod. */
  getPod(namespace: string, name: string): Promise<V1Pod | undefined>;
}

/** Who sent a request, as established from a client certificate. */
export interface ClientCertIdentity {
  readonly commonName: string;
  readonly organizations: readonly string[];
}

/**
 * The kubelet's authorization attributes for one request (as the kubelet maps its paths):
 * verb from the HTTP method, resource `nodes`, subresource `proxy`, `stats`, `metrics` or `log`.
 */
export interface RequestAttributes {
  readonly verb: string;
  readonly resource: 'nodes';
  readonly subresource: 'proxy' | 'stats' | 'metrics' | 'log';
  readonly name: string;
  readonly path: string;
}

/**
 * Authentication + authorization hook (the real kubelet uses TokenReview and
 * SubjectAccessReview). Called once per request before any work. May call the API server;
 * should cache. Answers 'allow', 'unauthenticated' (→ 401) or 'forbidden' (→ 403).
 */
export type RequestAuthorizer = (request: {
  readonly token?: string;
  readonly clientCert?: ClientCertIdentity;
  readonly attributes: RequestAttributes;
}) => Promise<'allow' | 'unauthenticated' | 'forbidden'>;

/** Serving certificate (PEM) and, optionally, the CA that signs accepted client certificates. */
export interface KubeletTls {
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
  readonly clientCa?: string | Buffer;
}

export interface KubeletApiDeps {
  /** Name of the virtual node (stats, authorization attributes). */
  readonly nodeName: string;
  readonly pods: PodSource;
  /**
   * Redis for plain commands. Owned by the caller (not closed by the API); blocking reads
   * (log follow, exec output) use their own connections made with `redis.duplicate()`.
   */
  readonly redis: Redis;
  readonly keys: Keys;
  readonly log?: Logger;
  /** Provider metrics served on /metrics; API request counts are recorded into it. */
  readonly metrics?: ProviderMetrics;
  /** Absent: every request is allowed (local use; the listen address defaults to loopback). */
  readonly authorize?: RequestAuthorizer;
  /** Absent: plain HTTP. */
  readonly tls?: KubeletTls;
  /** When the node started (stats startTime); defaults to when the API was built. */
  readonly startTime?: Date;
  /** Longest a follow/exec read blocks in Redis before re-checking its end conditions (ms). */
  readonly blockMs?: number;
}
