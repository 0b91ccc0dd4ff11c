// GET /healthz: the kubelet answers "ok" as text while its HTTP server is up.
import type { FastifyInstance } from 'fastify';

export function healthzRoute(app: FastifyInstance): void {
  app.get('/healthz', async (_request, reply) => reply.type('text/plain; charset=utf-8').send('ok'));
}
