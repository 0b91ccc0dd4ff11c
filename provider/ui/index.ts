/**
 * The operator UI: overview and pod pages, a JSON API, live updates (SSE) and bull-board on
 * /queues. `buildUi` returns a fastify app that is not listening yet; `startHistory` samples
 * the charts' figures until stopped.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Keys } from '../../src/keys.ts';
import type { Logger } from '../../src/log.ts';
import { registerApi, type ApiDeps } from './api.ts';
import { authorized, hasAuth, type UiAuth } from './auth.ts';
import { queueDepth, queueViews } from './data.ts';
import { History } from './history.ts';
import { registerLive, type LiveOptions } from './live.ts';
import { registerQueues } from './queues.ts';
import type { UiSources } from './sources.ts';

export interface UiDeps {
  sources: UiSources;
  redis: Redis;
  keys: Keys;
  log: Logger;
  auth?: UiAuth;
  history?: History;
  live?: LiveOptions;
}

const here = dirname(fileURLToPath(import.meta.url));
const uplotDir = dirname(createRequire(import.meta.url).resolve('uplot/dist/uPlot.iife.min.js'));

const ASSETS: Record<string, [string, string]> = {
  'app.js': [join(here, 'static/app.js'), 'text/javascript; charset=utf-8'],
  'pod.js': [join(here, 'static/pod.js'), 'text/javascript; charset=utf-8'],
  'style.css': [join(here, 'static/style.css'), 'text/css; charset=utf-8'],
  'uplot.js': [join(uplotDir, 'uPlot.iife.min.js'), 'text/javascript; charset=utf-8'],
  'uplot.css': [join(uplotDir, 'uPlot.min.css'), 'text/css; charset=utf-8'],
};

export async function buildUi(deps: UiDeps): Promise<FastifyInstance> {
  const auth = deps.auth ?? {};
  const history = deps.history ?? new History();
  const app = Fastify({ logger: false });
  app.addHook('onRequest', async (req, reply) => {
    const token = (req.query as Record<string, string | undefined> | undefined)?.token;
    if (!authorized(auth, req.headers.authorization, token)) {
      reply.header('www-authenticate', auth.basic ? 'Basic realm="burstlet"' : 'Bearer realm="burstlet"');
      return reply.code(401).send({ code: 'UNAUTHORIZED', message: 'this UI needs a token or basic auth' });
    }
  });
  const api: ApiDeps = { sources: deps.sources, redis: deps.redis, keys: deps.keys, log: deps.log, history };
  registerApi(app, api);
  registerLive(app, api, deps.live);
  await registerQueues(app, deps.sources, deps.log, hasAuth(auth));
  const page = (file: string) => async () => readFile(join(here, 'static', file), 'utf8');
  app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').send(await page('index.html')()));
  app.get('/pods/:namespace/:name', async (_req, reply) => reply.type('text/html; charset=utf-8').send(await page('pod.html')()));
  app.get<{ Params: { file: string } }>('/assets/:file', async (req, reply) => {
    const asset = ASSETS[req.params.file];
    if (!asset) return reply.code(404).send({ code: 'NOT_FOUND', message: 'no such asset' });
    return reply.type(asset[1]).header('cache-control', 'no-cache').send(await readFile(asset[0]));
  });
  return app;
}

/**
 * Samples queue depth every `intervalMs` and records pod starts (from the sources) into the
 * history. Returns a stop function.
 */
export function startHistory(sources: UiSources, history: History, log: Logger, intervalMs = 60_000): () => void {
  const unsubscribe = sources.subscribe(() => {
    for (const r of sources.pods()) {
      if (r.runningAt !== undefined) history.podStarted(r.pod.metadata.uid, r.enqueuedAt === undefined ? undefined : r.runningAt - r.enqueuedAt);
    }
  });
  const tick = async () => {
    try {
      history.sample(Date.now(), queueDepth(await queueViews(sources.queues())));
    } catch (err) {
      log.warn({ err }, 'ui history sample failed');
    }
  };
  const timer = setInterval(tick, intervalMs);
  return () => {
    clearInterval(timer);
    unsubscribe();
  };
}
