/**
 * bull-board on /queues. Read-only unless UI auth is configured; with auth every job action
 * (retry, remove, clean, promote, ...) requires it and is logged.
 */
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { FastifyInstance } from 'fastify';
import type { Logger } from '../../src/log.ts';
import type { UiSources } from './sources.ts';

export const QUEUES_PATH = '/queues';

export async function registerQueues(app: FastifyInstance, sources: UiSources, log: Logger, withAuth: boolean): Promise<void> {
  const adapter = new FastifyAdapter();
  adapter.setBasePath(QUEUES_PATH);
  createBullBoard({
    queues: sources.queues().map((q) => new BullMQAdapter(q, { readOnlyMode: !withAuth })),
    serverAdapter: adapter,
    options: { uiConfig: { boardTitle: 'burstlet queues' } },
  });
  await app.register(async (scope) => {
    scope.addHook('onResponse', async (req, reply) => {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        log.info({ method: req.method, url: req.url, status: reply.statusCode, ip: req.ip }, 'queue job action');
      }
    });
    await scope.register(adapter.registerPlugin(), { prefix: QUEUES_PATH });
  });
}
