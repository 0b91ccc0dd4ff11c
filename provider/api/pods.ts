// GET /pods: a v1.PodList of the pods bound to the node, as the kubelet serves it.
import type { FastifyInstance } from 'fastify';
import type { PodSource } from './deps.ts';

export function podsRoute(app: FastifyInstance, pods: PodSource): void {
  app.get('/pods', async (_request, reply) => {
    const items = await pods.listPods();
    return reply.type('application/json').send({ kind: 'PodList', apiVersion: 'v1', metadata: {}, items });
  });
}
