/**
 * The latest stats of the node's pods: the PodStats snapshot each pod's worker keeps under
 * keys.stats(uid) (JSON, expiring). Shared by /stats/summary and /metrics/resource.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { Redis } from 'ioredis';
import type { Keys } from '../../src/keys.ts';
import type { Logger } from '../../src/log.ts';
import { podStats, type PodStats } from '../../src/schema/streams.ts';
import type { PodSource } from './deps.ts';

export interface PodUsage {
  readonly pod: V1Pod;
  readonly stats: PodStats;
}

export interface NodeUsage {
  /** Pods of the node with a current stats snapshot (pods without one are left out). */
  readonly pods: PodUsage[];
  /** Snapshots that could not be used (malformed, or for another pod). */
  readonly errors: number;
}

type CpuStats = NonNullable<PodStats['cpu']>;
type MemoryStats = NonNullable<PodStats['memory']>;

/** Reads every pod's snapshot in one MGET. */
export async function readNodeUsage(deps: { pods: PodSource; redis: Redis; keys: Keys; log: Logger }): Promise<NodeUsage> {
  const pods = (await deps.pods.listPods()).filter((p) => p.metadata?.uid);
  if (pods.length === 0) return { pods: [], errors: 0 };
  const raw = await deps.redis.mget(...pods.map((p) => deps.keys.stats(p.metadata!.uid!)));
  const out: PodUsage[] = [];
  let errors = 0;
  pods.forEach((pod, i) => {
    const value = raw[i];
    if (value === null || value === undefined) return;
    try {
      const stats = podStats(JSON.parse(value));
      if (stats.uid !== pod.metadata!.uid) throw new Error(`snapshot is for pod UID ${stats.uid}`);
      out.push({ pod, stats });
    } catch (err) {
      errors++;
      deps.log.warn({ key: deps.keys.stats(pod.metadata!.uid!), err: (err as Error).message }, 'unusable pod stats snapshot');
    }
  });
  return { pods: out, errors };
}

const add = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined ? b : b === undefined ? a : a + b);

/** Sum of CPU stats (undefined fields stay undefined unless some part has them). */
export function sumCpu(parts: (CpuStats | undefined)[]): CpuStats | undefined {
  const present = parts.filter((p): p is CpuStats => p !== undefined);
  if (present.length === 0) return undefined;
  return present.reduce<CpuStats>((s, p) => ({ usageNanoCores: add(s.usageNanoCores, p.usageNanoCores), usageCoreNanoSeconds: add(s.usageCoreNanoSeconds, p.usageCoreNanoSeconds) }), {});
}

export function sumMemory(parts: (MemoryStats | undefined)[]): MemoryStats | undefined {
  const present = parts.filter((p): p is MemoryStats => p !== undefined);
  if (present.length === 0) return undefined;
  return present.reduce<MemoryStats>(
    (s, p) => ({
      workingSetBytes: add(s.workingSetBytes, p.workingSetBytes),
      usageBytes: add(s.usageBytes, p.usageBytes),
      rssBytes: add(s.rssBytes, p.rssBytes),
      pageFaults: add(s.pageFaults, p.pageFaults),
    }),
    {},
  );
}

/** A pod's own totals when the worker sent them, else the sum of its containers. */
export function podCpu(stats: PodStats): CpuStats | undefined {
  return stats.cpu ?? sumCpu(stats.containers.map((c) => c.cpu));
}

export function podMemory(stats: PodStats): MemoryStats | undefined {
  return stats.memory ?? sumMemory(stats.containers.map((c) => c.memory));
}
