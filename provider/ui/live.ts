/**
 * Live updates over Server-Sent Events: GET /api/stream sends `overview` (or, with
 * ?pod=ns/name, `pod`) whenever the sources change, coalesced to at most one per
 * `minGapMs`, and at least every `refreshMs` (heartbeats, queue counts).
 */
import type { FastifyInstance } from 'fastify';
import { overview, podDetail, type ApiDeps } from './api.ts';

export interface LiveOptions {
  minGapMs?: number;
  refreshMs?: number;
}

export function registerLive(app: FastifyInstance, d: ApiDeps, opts: LiveOptions = {}): void {
  const minGap = opts.minGapMs ?? 250;
  const refresh = opts.refreshMs ?? 2000;
  app.get<{ Querystring: { pod?: string } }>('/api/stream', (req, reply) => {
    const [namespace, name] = (req.query.pod ?? '').split('/');
    const raw = reply.raw;
    reply.hijack();
    raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    let closed = false;
    let pending = false;
    let last = 0;
    let timer: NodeJS.Timeout | undefined;
    const send = async () => {
      pending = false;
      last = Date.now();
      try {
        const body = namespace && name ? await podDetail(d, namespace, name) : await overview(d);
        if (!closed) raw.write(`event: ${namespace ? 'pod' : 'overview'}\ndata: ${JSON.stringify(body ?? null)}\n\n`);
      } catch (err) {
        d.log.warn({ err }, 'ui stream update failed');
      }
    };
    const schedule = () => {
      if (pending || closed) return;
      pending = true;
      timer = setTimeout(send, Math.max(0, minGap - (Date.now() - last)));
    };
    const unsubscribe = d.sources.subscribe(schedule);
    const interval = setInterval(schedule, refresh);
    raw.on('close', () => {
      closed = true;
      unsubscribe();
      clearInterval(interval);
      clearTimeout(timer);
    });
    void send();
  });
}
