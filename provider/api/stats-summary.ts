/**
 * GET /stats/summary: the kubelet stats API Summary (stats/v1alpha1) — node totals and one
 * PodStats per pod with a current worker snapshot. The virtual node's usage is the sum of
 * its pods (it has no machine of its own). Only cpu and memory are filled: network,
 * filesystem, volume and rlimit stats are not collected by workers.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { FastifyInstance } from 'fastify';
import type { PodStats } from '../../src/schema/streams.ts';
import type { KubeletApiDeps } from './deps.ts';
import { podCpu, podMemory, readNodeUsage, sumCpu, sumMemory } from './stats-reader.ts';

type Deps = Required<Pick<KubeletApiDeps, 'nodeName' | 'pods' | 'redis' | 'keys' | 'log' | 'startTime'>>;

const iso = (ms: number): string => new Date(ms).toISOString();
const withTime = <T extends object>(v: T | undefined, time: string): (T & { time: string }) | undefined => (v === undefined ? undefined : { time, ...v });

// Kubernetes timestamps arrive as Date (client-node) or string (raw JSON).
const timeString = (t: unknown): string | undefined => (t === undefined || t === null ? undefined : new Date(t as string).toISOString());

function podEntry(pod: V1Pod, stats: PodStats) {
  const time = iso(stats.at);
  return {
    podRef: { name: stats.name, namespace: stats.namespace, uid: stats.uid },
    startTime: timeString(pod.status?.startTime),
    containers: stats.containers.map((c) => ({
      name: c.name,
      startTime: c.startTime,
      cpu: withTime(c.cpu, time),
      memory: withTime(c.memory, time),
    })),
    cpu: withTime(podCpu(stats), time),
    memory: withTime(podMemory(stats), time),
  };
}

export function statsSummaryRoute(app: FastifyInstance, deps: Deps): void {
  app.get('/stats/summary', async (_request, reply) => {
    const usage = await readNodeUsage(deps);
    const newest = usage.pods.reduce((m, u) => Math.max(m, u.stats.at), 0) || Date.now();
    const time = iso(newest);
    const node = {
      nodeName: deps.nodeName,
      startTime: deps.startTime.toISOString(),
      cpu: withTime(sumCpu(usage.pods.map((u) => podCpu(u.stats))) ?? { usageNanoCores: 0, usageCoreNanoSeconds: 0 }, time),
      memory: withTime(sumMemory(usage.pods.map((u) => podMemory(u.stats))) ?? { workingSetBytes: 0, usageBytes: 0 }, time),
      systemContainers: [],
    };
    return reply.type('application/json').send({ node, pods: usage.pods.map((u) => podEntry(u.pod, u.stats)) });
  });
}
