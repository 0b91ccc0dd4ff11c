/**
 * /attach and /portForward: the kubelet serves both; burstlet workers have no contract for
 * them yet (no attach to a running container's stdio, no port tunnel through Redis), so they
 * answer 501 — before any WebSocket upgrade, so clients see the reason.
 */
import type { FastifyInstance } from 'fastify';
import { BurstletError } from '../../src/errors.ts';

const refuse = (what: string) => async () => {
  throw new BurstletError('NOT_IMPLEMENTED', `${what} is not supported by the burstlet provider: workers cannot do it yet (exec works)`);
};

export function attachRoute(app: FastifyInstance): void {
  for (const url of ['/attach/:namespace/:pod/:container', '/attach/:namespace/:pod/:uid/:container']) {
    app.route({ method: ['GET', 'POST'], url, preHandler: refuse('attach'), handler: refuse('attach') });
  }
}

export function portForwardRoute(app: FastifyInstance): void {
  for (const url of ['/portForward/:namespace/:pod', '/portForward/:namespace/:pod/:uid']) {
    app.route({ method: ['GET', 'POST'], url, preHandler: refuse('port-forward'), handler: refuse('port-forward') });
  }
}
