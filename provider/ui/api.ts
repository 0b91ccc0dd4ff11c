/**
 * The UI's JSON API, also meant for scripts: /api/overview, /api/workers, /api/pods,
 * /api/pods/:namespace/:name (status, events, log tail), /api/queues.
 */
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Keys } from '../../src/keys.ts';
import type { Logger } from '../../src/log.ts';
import { listWorkers, logTail, queueDepth, queueViews } from './data.ts';
import type { History } from './history.ts';
import type { UiSources } from './sources.ts';
import { byName, summarize } from './views.ts';

export interface ApiDeps {
  sources: UiSources;
  redis: Redis;
  keys: Keys;
  log: Logger;
  history: History;
}

const pools = (sources: UiSources) => sources.queues().map((q) => q.name.replace(/^pods-/, ''));

export async function overview(d: ApiDeps) {
  const [node, workers, queues] = await Promise.all([d.sources.node(), listWorkers(d.redis, d.keys, pools(d.sources), d.log), queueViews(d.sources.queues())]);
  return {
    node,
    workers,
    pods: d.sources.pods().map(summarize).sort(byName),
    queues,
    queueDepth: queueDepth(queues),
    history: d.history.samples(),
    at: Date.now(),
  };
}

export async function podDetail(d: ApiDeps, namespace: string, name: string) {
  const record = d.sources.pod(namespace, name);
  if (!record) return undefined;
  const { pod } = record;
  const containers = [...(pod.spec.initContainers ?? []), ...pod.spec.containers].map((c) => c.name);
  const logs: Record<string, string[]> = {};
  for (const c of containers) logs[c] = (await logTail(d.redis, d.keys, pod.metadata.uid, c)).map((r) => r.line);
  return { summary: summarize(record), pod, events: record.events, logs, enqueuedAt: record.enqueuedAt, runningAt: record.runningAt };
}

export function registerApi(app: FastifyInstance, d: ApiDeps): void {
  app.get('/api/overview', () => overview(d));
  app.get('/api/workers', () => listWorkers(d.redis, d.keys, pools(d.sources), d.log));
  app.get('/api/pods', () => d.sources.pods().map(summarize).sort(byName));
  app.get<{ Params: { namespace: string; name: string } }>('/api/pods/:namespace/:name', async (req, reply) => {
    const detail = await podDetail(d, req.params.namespace, req.params.name);
    if (!detail) return reply.code(404).send({ code: 'NOT_FOUND', message: `pod ${req.params.namespace}/${req.params.name} not found` });
    return detail;
  });
  app.get('/api/queues', () => queueViews(d.sources.queues()));
}
