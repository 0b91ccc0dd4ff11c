/**
 * GET /metrics/resource: the kubelet's resource metrics endpoint (what metrics-server scrapes
 * for `kubectl top` and the HPA) in Prometheus text format, with the kubelet's metric names
 * and a timestamp on every sample (metrics-server uses them to compute CPU rates). Written by
 * hand because prom-client cannot attach per-sample timestamps.
 */
import type { FastifyInstance } from 'fastify';
import type { KubeletApiDeps } from './deps.ts';
import { podCpu, podMemory, readNodeUsage, sumCpu, sumMemory, type PodUsage } from './stats-reader.ts';

type Deps = Required<Pick<KubeletApiDeps, 'pods' | 'redis' | 'keys' | 'log'>>;

interface Family {
  name: string;
  type: 'counter' | 'gauge';
  help: string;
  samples: string[];
}

const escape = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const labels = (l: Record<string, string>): string => {
  const parts = Object.entries(l).map(([k, v]) => `${k}="${escape(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
};
const sample = (name: string, l: Record<string, string>, value: number, atMs?: number): string =>
  `${name}${labels(l)} ${value}${atMs === undefined ? '' : ` ${atMs}`}`;

const family = (name: string, type: Family['type'], help: string): Family => ({ name, type, help: `[STABLE] ${help}`, samples: [] });

/** The exposition text for the given usage (exported for tests). */
export function resourceMetricsText(usage: { pods: PodUsage[]; errors: number }, now: number): string {
  const f = {
    containerCpu: family('container_cpu_usage_seconds_total', 'counter', 'Cumulative cpu time consumed by the container in core-seconds'),
    containerMem: family('container_memory_working_set_bytes', 'gauge', 'Current working set of the container in bytes'),
    containerStart: family('container_start_time_seconds', 'gauge', 'Start time of the container since unix epoch in seconds'),
    nodeCpu: family('node_cpu_usage_seconds_total', 'counter', 'Cumulative cpu time consumed by the node in core-seconds'),
    nodeMem: family('node_memory_working_set_bytes', 'gauge', 'Current working set of the node in bytes'),
    podCpu: family('pod_cpu_usage_seconds_total', 'counter', 'Cumulative cpu time consumed by the pod in core-seconds'),
    podMem: family('pod_memory_working_set_bytes', 'gauge', 'Current working set of the pod in bytes'),
    scrapeError: family('resource_scrape_error', 'gauge', '1 if there was an error while getting container metrics, 0 otherwise'),
  };
  for (const { stats } of usage.pods) {
    const pod = { namespace: stats.namespace, pod: stats.name };
    for (const c of stats.containers) {
      const l = { container: c.name, ...pod };
      if (c.cpu?.usageCoreNanoSeconds !== undefined) f.containerCpu.samples.push(sample(f.containerCpu.name, l, c.cpu.usageCoreNanoSeconds / 1e9, stats.at));
      if (c.memory?.workingSetBytes !== undefined) f.containerMem.samples.push(sample(f.containerMem.name, l, c.memory.workingSetBytes, stats.at));
      const started = c.startTime === undefined ? NaN : Date.parse(c.startTime);
      if (!Number.isNaN(started)) f.containerStart.samples.push(sample(f.containerStart.name, l, started / 1000, stats.at));
    }
    const cpu = podCpu(stats)?.usageCoreNanoSeconds;
    const mem = podMemory(stats)?.workingSetBytes;
    if (cpu !== undefined) f.podCpu.samples.push(sample(f.podCpu.name, pod, cpu / 1e9, stats.at));
    if (mem !== undefined) f.podMem.samples.push(sample(f.podMem.name, pod, mem, stats.at));
  }
  const newest = usage.pods.reduce((m, u) => Math.max(m, u.stats.at), 0) || now;
  f.nodeCpu.samples.push(sample(f.nodeCpu.name, {}, (sumCpu(usage.pods.map((u) => podCpu(u.stats)))?.usageCoreNanoSeconds ?? 0) / 1e9, newest));
  f.nodeMem.samples.push(sample(f.nodeMem.name, {}, sumMemory(usage.pods.map((u) => podMemory(u.stats)))?.workingSetBytes ?? 0, newest));
  f.scrapeError.samples.push(sample(f.scrapeError.name, {}, usage.errors > 0 ? 1 : 0));
  return Object.values(f)
    .filter((x) => x.samples.length > 0)
    .map((x) => [`# HELP ${x.name} ${x.help}`, `# TYPE ${x.name} ${x.type}`, ...x.samples].join('\n'))
    .join('\n') + '\n';
}

export function metricsResourceRoute(app: FastifyInstance, deps: Deps): void {
  app.get('/metrics/resource', async (_request, reply) => {
    const usage = await readNodeUsage(deps);
    return reply.type('text/plain; version=0.0.4; charset=utf-8').send(resourceMetricsText(usage, Date.now()));
  });
}
