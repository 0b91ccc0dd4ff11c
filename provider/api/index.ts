/**
 * The provider's kubelet HTTP API (what the API server and metrics-server call on :10250),
 * built the fastify way: external plugins (websocket) → services (auth, error mapping,
 * request metrics) → one file per endpoint. It takes everything through `KubeletApiDeps`
 * (deps.ts) so the pod controller wires it and tests build it alone.
 *
 * Missing next to the kubelet (docs/kubelet-api.md): SPDY streaming (exec is WebSocket only;
 * an SPDY upgrade gets 501), attach and port-forward (501: workers have no contract for them),
 * /logs (node log files), /configz, /debug, /checkpoint, /runningpods, /stats/container.
 */
import websocket from '@fastify/websocket';
import { fastify, LogController, type FastifyInstance } from 'fastify';
import { silentLogger } from '../../src/log.ts';
import { attachRoute, portForwardRoute } from './attach.ts';
import { installAuth } from './auth.ts';
import { containerLogsRoute } from './container-logs.ts';
import type { KubeletApiDeps } from './deps.ts';
import { EXEC_PROTOCOLS } from './exec-channels.ts';
import { execRoute } from './exec.ts';
import { healthzRoute } from './healthz.ts';
import { metricsResourceRoute } from './metrics-resource.ts';
import { metricsRoute } from './metrics.ts';
import { podsRoute } from './pods.ts';
import { statsSummaryRoute } from './stats-summary.ts';
import { installStatusErrors } from './status.ts';

export type { KubeletApiDeps, PodSource, RequestAuthorizer, RequestAttributes, KubeletTls } from './deps.ts';
export { kubeAuthorizer, type ReviewClient } from './kube-authorizer.ts';
export { loadKubeletTls, type KubeletTlsOptions } from './tls.ts';

/**
 * Builds (does not start) the kubelet API. Call `listen({ host, port })` on the result, and
 * `close()` to stop: open follow and exec streams end, their Redis connections are closed;
 * `deps.redis` stays open (the caller owns it).
 */
export function buildKubeletApi(deps: KubeletApiDeps): FastifyInstance {
  const log = deps.log ?? silentLogger();
  const tls = deps.tls;
  const app = fastify({
    loggerInstance: log,
    // Per-request lines would flood the log (metrics scrapes, log follows); /metrics counts them.
    logController: new LogController({ disableRequestLogging: true }),
    ...(tls ? { https: { cert: tls.cert, key: tls.key, ...(tls.clientCa ? { ca: tls.clientCa, requestCert: true, rejectUnauthorized: false } : {}) } } : {}),
  }) as unknown as FastifyInstance;
  installStatusErrors(app);
  if (deps.metrics) {
    const requests = deps.metrics.apiRequests;
    app.addHook('onResponse', async (request, reply) => {
      requests.inc({ route: request.routeOptions.url ?? 'unmatched', method: request.method, code: String(reply.statusCode) });
    });
  }
  if (deps.authorize) installAuth(app, deps.authorize, deps.nodeName);
  void app.register(websocket, { options: { handleProtocols: pickProtocol, maxPayload: 4 * 1024 * 1024 } });
  void app.register(async (scope) => {
    const full = { ...deps, log, blockMs: deps.blockMs ?? 1000, startTime: deps.startTime ?? new Date() };
    healthzRoute(scope);
    podsRoute(scope, deps.pods);
    containerLogsRoute(scope, full);
    execRoute(scope, full);
    attachRoute(scope);
    portForwardRoute(scope);
    statsSummaryRoute(scope, full);
    metricsResourceRoute(scope, full);
    metricsRoute(scope, deps.metrics);
  });
  return app;
}

// The first subprotocol the client offers that we speak (the client's order wins, like the
// kubelet); no subprotocol at all means plain channel.k8s.io.
function pickProtocol(offered: Set<string>): string | false {
  for (const p of offered) if (EXEC_PROTOCOLS.includes(p)) return p;
  return false;
}
