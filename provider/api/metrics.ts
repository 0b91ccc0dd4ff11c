// GET /metrics: the provider's own Prometheus metrics (provider/metrics.ts); 501 when the
// provider was built without a metrics registry.
import type { FastifyInstance } from 'fastify';
import { BurstletError } from '../../src/errors.ts';
import type { ProviderMetrics } from '../metrics.ts';

export function metricsRoute(app: FastifyInstance, metrics: ProviderMetrics | undefined): void {
  app.get('/metrics', async (_request, reply) => {
    if (!metrics) throw new BurstletError('NOT_IMPLEMENTED', 'this provider exports no metrics registry');
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
}
