/**
 * GET /containerLogs/{namespace}/{pod}/{container}: the container's log as plain text, like
 * the kubelet — follow, previous, sinceSeconds, sinceTime, timestamps, tailLines, limitBytes.
 * Reads the worker-written Redis log stream; follow ends when the client goes away or the
 * container is terminal (after draining what is left).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BurstletError } from '../../src/errors.ts';
import type { KubeletApiDeps } from './deps.ts';
import { LogBody } from './log-body.ts';
import { emitFollow, emitHistory, type Emit, type LogStreamContext } from './log-reader.ts';
import { parseLogOptions, type LogOptions } from './log-options.ts';
import { containerDone, containerStatus, requireContainer, requirePod } from './pod-lookup.ts';

/** Name of the Redis connections log follows block on (visible in CLIENT LIST). */
export const FOLLOW_CONNECTION = 'burstlet-kubelet-logs-follow';

const CLOSING = Symbol('server closing');

type Params = { namespace: string; pod: string; container: string };
type Deps = Required<Pick<KubeletApiDeps, 'pods' | 'redis' | 'keys' | 'log' | 'blockMs'>>;

export function containerLogsRoute(app: FastifyInstance, deps: Deps): void {
  // Open streams end when the server closes; otherwise a follow would hold close() open.
  const open = new Set<AbortController>();
  app.addHook('preClose', async () => {
    for (const stream of open) stream.abort(CLOSING);
  });
  app.get<{ Params: Params; Querystring: Record<string, string | string[]> }>('/containerLogs/:namespace/:pod/:container', async (request, reply) => {
    const { namespace, pod: name, container } = request.params;
    const options = parseLogOptions(request.query, Date.now());
    const pod = await requirePod(deps.pods, namespace, name);
    requireContainer(pod, container);
    const restarts = containerStatus(pod, container)?.restartCount ?? 0;
    if (options.previous && restarts === 0) {
      throw new BurstletError('INVALID_INPUT', `previous terminated container "${container}" in pod "${name}" not found`);
    }
    const ctx: LogStreamContext = {
      redis: deps.redis,
      key: deps.keys.logs(pod.metadata.uid, container),
      deadLetter: deps.keys.deadLetter,
      log: deps.log,
      // Current logs show the newest instance even when the pod status lags behind a restart.
      attempt: options.previous ? (a) => a === restarts - 1 : (a) => a >= restarts,
      sinceMs: options.sinceMs,
    };
    return streamLogs(request, reply, { ...deps, open }, ctx, options, request.params);
  });
}

function streamLogs(request: FastifyRequest, reply: FastifyReply, deps: Deps & { open: Set<AbortController> }, ctx: LogStreamContext, options: LogOptions, at: Params): FastifyReply {
  // The response closes when it ended or when the client went away; either way, stop.
  const client = new AbortController();
  reply.raw.once('close', () => client.abort());
  deps.open.add(client);
  client.signal.addEventListener('abort', () => deps.open.delete(client), { once: true });
  const body = new LogBody({ timestamps: options.timestamps, limitBytes: options.limitBytes, signal: client.signal });
  void pump(deps, ctx, options, at, body.emit, client.signal)
    .catch((err) => {
      if (!client.signal.aborted) request.log.warn({ err, pod: `${at.namespace}/${at.pod}`, container: at.container }, 'log stream ended with an error');
    })
    .finally(() => {
      body.end();
      // Ended by close(): drop the keep-alive socket too, or the server waits for its timeout.
      const socket = reply.raw.socket;
      if (client.signal.reason === CLOSING) reply.raw.once('finish', () => socket?.end());
    });
  return reply.type('text/plain; charset=utf-8').send(body.stream);
}

async function pump(deps: Deps, ctx: LogStreamContext, options: LogOptions, at: Params, emit: Emit, gone: AbortSignal): Promise<void> {
  const { lastId, stopped } = await emitHistory(ctx, options.tailLines, emit);
  if (stopped || !options.follow || options.previous || gone.aborted) return;
  const blocking = deps.redis.duplicate({ connectionName: FOLLOW_CONNECTION });
  // Disconnecting ends a pending XREAD BLOCK at once instead of after blockMs.
  const hangUp = () => blocking.disconnect();
  gone.addEventListener('abort', hangUp, { once: true });
  try {
    const done = async () => containerDone(await deps.pods.getPod(at.namespace, at.pod), at.container);
    await emitFollow({ ...ctx, blocking, blockMs: deps.blockMs, done, stopped: () => gone.aborted }, lastId, emit);
  } finally {
    gone.removeEventListener('abort', hangUp);
    blocking.disconnect();
  }
}
