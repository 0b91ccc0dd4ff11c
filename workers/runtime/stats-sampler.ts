/**
 * Samples the running containers' cgroups of one pod every interval and hands a PodStats
 * (kubelet /stats/summary shape: cumulative CPU, CPU rate from the last sample, memory
 * usage, working set, RSS) to the reporter. Never throws; unreadable fields stay absent.
 */
import type { PodJob } from '../../src/schema/pod-job.ts';
import type { PodStats } from '../../src/schema/streams.ts';
import { cgroupUsage, type CgroupUsage } from './cgroup-stats.ts';

/** A container to sample: its name, cgroup path and start time (RFC 3339). */
export interface SampledContainer { name: string; cgroup: string; startTime?: string }

type Stats = Omit<PodStats, 'workerId' | 'at'>;

export class StatsSampler {
  readonly #job: PodJob;
  readonly #containers: () => SampledContainer[];
  readonly #sink: (s: Stats) => void;
  readonly #last = new Map<string, { at: bigint; cpuNs: number }>();
  #timer: NodeJS.Timeout | undefined;

  constructor(job: PodJob, containers: () => SampledContainer[], sink: (s: Stats) => void) {
    this.#job = job;
    this.#containers = containers;
    this.#sink = sink;
  }

  start(intervalMs: number): void {
    this.#timer = setInterval(() => void this.sample().catch(() => undefined), intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** CPU rate in nanocores since the previous sample of the same cgroup. */
  #rate(cgroup: string, cpuNs: number | undefined): number | undefined {
    if (cpuNs === undefined) return undefined;
    const now = process.hrtime.bigint();
    const prev = this.#last.get(cgroup);
    this.#last.set(cgroup, { at: now, cpuNs });
    if (!prev || now === prev.at) return undefined;
    return Math.max(0, Math.round(((cpuNs - prev.cpuNs) * 1e9) / Number(now - prev.at)));
  }

  async sample(): Promise<Stats> {
    const containers: Stats['containers'] = [];
    const total: CgroupUsage & { nanoCores?: number } = {};
    for (const c of this.#containers()) {
      const u = await cgroupUsage(c.cgroup);
      const nanoCores = this.#rate(c.cgroup, u.cpuNs);
      for (const k of ['cpuNs', 'memoryBytes', 'workingSetBytes', 'rssBytes'] as const) if (u[k] !== undefined) total[k] = (total[k] ?? 0) + u[k]!;
      if (nanoCores !== undefined) total.nanoCores = (total.nanoCores ?? 0) + nanoCores;
      containers.push({ name: c.name, ...(c.startTime ? { startTime: c.startTime } : {}), ...shape(u, nanoCores) });
    }
    const stats: Stats = { uid: this.#job.uid, namespace: this.#job.namespace, name: this.#job.name, ...shape(total, total.nanoCores), containers };
    this.#sink(stats);
    return stats;
  }
}

function shape(u: CgroupUsage, nanoCores: number | undefined): Pick<PodStats, 'cpu' | 'memory'> {
  const def = <T extends object>(o: T) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
  return {
    cpu: def({ usageCoreNanoSeconds: u.cpuNs, usageNanoCores: nanoCores }),
    memory: def({ usageBytes: u.memoryBytes, workingSetBytes: u.workingSetBytes, rssBytes: u.rssBytes }),
  };
}
