/**
 * The virtual kubelet, wired: Kubernetes client → node + Lease controllers, pod informer →
 * pod controller (translate, enqueue, delete) and token refresher, events stream → status
 * sync, and the kubelet API on top. Start order matters for restart safety: the informer's first list completes
 * before the resync that cleans orphaned jobs, and status sync starts after the pods are
 * known so pending snapshots apply to the right objects.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { hostname } from 'node:os';
import { redisKeys, type Keys } from '../src/keys.ts';
import type { WorkerInfo } from '../src/schema/worker.ts';
import type { PodSource } from './api/deps.ts';
import { ApiEventRecorder } from './events.ts';
import { KubeClient, type Kube } from './kube-client.ts';
import { LeaseController } from './lease-controller.ts';
import { startMetricsPoller } from './metrics-poller.ts';
import type { ProviderMetrics } from './metrics.ts';
import { NodeController } from './node-controller.ts';
import type { NodeSettings } from './node-status.ts';
import { PodController } from './pod-controller.ts';
import { PodInformer } from './pod-informer.ts';
import { PodQueues } from './queue.ts';
import { StatusSync } from './status-sync.ts';
import { TokenRefresher } from './token-refresher.ts';
import { apiSources } from './translate/api-sources.ts';
import { liveWorkers } from './worker-pool.ts';

export interface ProviderOptions {
  /** A client already built (tests), or how to build one. */
  kube?: Kube;
  kubeconfig?: string;
  qps?: number;
  burst?: number;
  redisUrl: string;
  keyPrefix?: string;
  node: NodeSettings;
  leaseDurationSeconds?: number;
  leaseRenewMs?: number;
  statusIntervalMs?: number;
  /** How often the worker pool is looked at for the node status (default 5 s). */
  workerCheckMs?: number;
  configRetryMs?: number;
  /** See PodControllerOptions.deletionSlackMs. */
  deletionSlackMs?: number;
  log: Logger;
  metrics?: ProviderMetrics;
  /** How often queue depth, workers and pods by phase are sampled (default 5 s). */
  metricsIntervalMs?: number;
}

/** A running provider; `stop()` ends every loop and closes its connections (idempotent). */
export interface Provider {
  readonly keys: Keys;
  readonly pods: PodSource;
  readonly controller: PodController;
  readonly informer: PodInformer;
  readonly tokens: TokenRefresher;
  readonly redis: Redis;
  stop(): Promise<void>;
}

export async function startProvider(o: ProviderOptions): Promise<Provider> {
  const kube = o.kube ?? new KubeClient({ kubeconfig: o.kubeconfig, qps: o.qps, burst: o.burst });
  if (o.metrics) (kube as { instrument?(m: ProviderMetrics): void }).instrument?.(o.metrics);
  const redis = new Redis(o.redisUrl, { maxRetriesPerRequest: null });
  const keys = redisKeys(o.keyPrefix);
  const log = o.log;
  const workers = cachedWorkers(redis, keys);
  const queues = new PodQueues(redis, keys);
  const events = new ApiEventRecorder(kube, o.node.nodeName, { metrics: o.metrics, onError: (err) => log.warn({ err }, 'event not recorded') });
  const node = new NodeController({ kube, settings: o.node, workers: () => liveWorkers(redis, keys), checkIntervalMs: o.workerCheckMs, statusIntervalMs: o.statusIntervalMs, log });
  const lease = new LeaseController({ kube, nodeName: o.node.nodeName, nodeUid: () => node.uid, durationSeconds: o.leaseDurationSeconds, renewIntervalMs: o.leaseRenewMs, log });
  let status: StatusSync | undefined;
  const sources = apiSources(kube);
  const tokens: TokenRefresher = new TokenRefresher({ tokens: sources.tokens, redis, keys, log, pod: (uid) => controller.pod(uid) });
  const controller = new PodController({
    kube, redis, keys, queues, sources, events, workers, log, metrics: o.metrics, configRetryMs: o.configRetryMs, deletionSlackMs: o.deletionSlackMs,
    statusPending: (uid) => status?.pending(uid) ?? false,
    onJob: (pod) => tokens.track(pod),
    onGone: (uid) => {
      tokens.forget(uid);
      sources.tokens.forget(uid);
      void status?.forget(uid).catch((err) => log.warn({ err, uid }, 'could not forget pod state'));
    },
  });
  const informer = new PodInformer({ kube, nodeName: o.node.nodeName, handler: controller, log });
  status = new StatusSync({
    redis, keys, kube, events, log, metrics: o.metrics, consumer: `provider-${o.node.nodeName}-${hostname()}`,
    pod: (uid) => controller.pod(uid), pool: (uid) => controller.pool(uid),
    onApplied: (uid, e) => {
      controller.applied(uid, e);
      tokens.observed(uid, e);
    },
  });
  const stops: (() => Promise<void> | void)[] = [];
  const stop = async () => {
    for (const s of stops.splice(0).reverse()) await s();
  };
  stops.push(() => (kube as { close?(): void }).close?.(), () => void redis.disconnect(), () => queues.close(), () => events.close());
  try {
    await node.start();
    stops.push(() => node.stop());
    await lease.start();
    stops.push(() => lease.stop());
    await informer.start();
    stops.push(() => informer.stop(), () => controller.close(), () => tokens.close());
    await controller.resync();
    await status.start();
    stops.push(() => status.stop());
    if (o.metrics) {
      const metrics = o.metrics;
      stops.push(startMetricsPoller({ metrics, pods: () => informer.list(), pools: () => controller.pools(), queues, redis, keys, log, intervalMs: o.metricsIntervalMs }));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  log.info({ node: o.node.nodeName }, 'provider started');
  const pods: PodSource = {
    listPods: async () => informer.list() as V1Pod[],
    getPod: async (ns, name) => informer.get(ns, name) as V1Pod | undefined,
  };
  let stopped: Promise<void> | undefined;
  return { keys, pods, controller, informer, tokens, redis, stop: () => (stopped ??= stop()) };
}

// Many pods arrive at once: the pool is read at most once a second for fit reports.
function cachedWorkers(redis: Redis, keys: Keys): () => Promise<WorkerInfo[]> {
  let at = 0;
  let value: Promise<WorkerInfo[]> | undefined;
  return () => {
    if (!value || Date.now() - at > 1000) {
      at = Date.now();
      value = liveWorkers(redis, keys);
    }
    return value;
  };
}
