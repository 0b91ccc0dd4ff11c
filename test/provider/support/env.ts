// A provider test environment: the project's Kubernetes API test server plus a real
// redis-server, a rate-limited KubeClient on the admin kubeconfig, and worker simulation
// through the Redis contract (WorkerInfo heartbeat keys, PodEvents on the events stream).
import { KubeConfig } from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { KubeClient } from '../../../provider/kube-client.ts';
import type { NodeSettings } from '../../../provider/node-status.ts';
import { redisKeys, type Keys } from '../../../src/keys.ts';
import type { PodEvent } from '../../../src/schema/pod-event.ts';
import type { WorkerInfo } from '../../../src/schema/worker.ts';
import { publish } from '../../../src/streams.ts';
import { startKubeApiServer, type KubeApiServer, type KubeApiServerOptions } from '../../support/kube-apiserver/index.ts';
import { startRedis, type RedisServer } from '../../support/redis.ts';

export interface ProviderEnv {
  api: KubeApiServer;
  redisServer: RedisServer;
  redis: Redis;
  keys: Keys;
  kube: KubeClient;
  /** A client with another bearer token known to the server (e.g. a node identity). */
  clientFor(token: string): KubeClient;
  stop(): Promise<void>;
}

export async function startEnv(options: KubeApiServerOptions = {}): Promise<ProviderEnv> {
  const api = await startKubeApiServer({ bookmarkIntervalMs: 1000, ...options });
  const redisServer = await startRedis();
  const redis = new Redis(redisServer.url, { maxRetriesPerRequest: null });
  const clients: KubeClient[] = [];
  const clientFor = (token: string) => {
    const config = new KubeConfig();
    config.loadFromString(api.kubeconfigFor(token));
    const c = new KubeClient({ config, qps: 1000, burst: 1000 });
    clients.push(c);
    return c;
  };
  const config = new KubeConfig();
  config.loadFromString(api.kubeconfig);
  const kube = new KubeClient({ config, qps: 1000, burst: 1000 });
  clients.push(kube);
  return {
    api, redisServer, redis, keys: redisKeys(`t${randomBytes(3).toString('hex')}`), kube, clientFor,
    async stop() {
      for (const c of clients) c.close();
      redis.disconnect();
      await api.stop();
      await redisServer.stop();
    },
  };
}

/** Registers a live worker the way workers/host/registry.ts does (key with TTL + pool set). */
export async function registerWorker(redis: Redis, keys: Keys, partial: Partial<WorkerInfo> & { id: string }, ttlMs = 60_000): Promise<WorkerInfo> {
  const cap = { cpuMillis: 4000, memoryBytes: 8 * 2 ** 30, pods: 110, ephemeralStorageBytes: 50 * 2 ** 30 };
  const info: WorkerInfo = {
    pool: 'default', hostname: partial.id, os: 'linux', arch: 'amd64', version: '0.1.0',
    allocatable: cap, used: { cpuMillis: 0, memoryBytes: 0, pods: 0, ephemeralStorageBytes: 0 },
    startedAt: Date.now(), heartbeatAt: Date.now(), ...partial,
  };
  await redis.multi().set(keys.worker(info.id), JSON.stringify(info), 'PX', ttlMs).sadd(keys.workers(info.pool), info.id).exec();
  return info;
}

/** Publishes a PodEvent snapshot as a worker does (seq from INCR keys.podSeq). */
export async function publishPodEvent(redis: Redis, keys: Keys, e: Omit<PodEvent, 'seq' | 'at'> & { seq?: number }): Promise<PodEvent> {
  const seq = e.seq ?? (await redis.incr(keys.podSeq(e.uid)));
  const event: PodEvent = { ...e, seq, at: Date.now() };
  await publish(redis, keys.events, event);
  return event;
}

/** Polls `check` until it returns a truthy value (generous default timeout; never a fixed sleep). */
export async function waitFor<T>(what: string, check: () => Promise<T> | T, timeoutMs = 60_000): Promise<Exclude<T, false | undefined | null | '' | 0>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as Exclude<T, false | undefined | null | '' | 0>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The node settings the provider tests run with (burstlet's default taint, no burst headroom). */
export function testNode(nodeName: string, overrides: Partial<NodeSettings> = {}): NodeSettings {
  return {
    nodeName, taint: 'virtual-kubelet.io/provider=burstlet:NoSchedule', version: '0.1.0', address: '127.0.0.1', port: 10250,
    burst: { cpuMillis: 0, memoryBytes: 0, pods: 0 }, ...overrides,
  };
}
