/**
 * /exec/{namespace}/{pod}[/{uid}]/{container}?command=..&stdin&stdout&stderr&tty — run a
 * command in a container over a WebSocket with the Kubernetes channel subprotocols (see
 * exec-channels.ts); the session itself is exec-session.ts. Everything that can be refused is
 * checked before the upgrade, so the client gets a proper HTTP error (Status body). SPDY/3.1,
 * the kubelet's other streaming transport, is not implemented and says so.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { BurstletError } from '../../src/errors.ts';
import type { ExecStart } from '../../src/schema/control.ts';
import type { KubeletApiDeps } from './deps.ts';
import { channelCodec } from './exec-channels.ts';
import { runExecSession, type ChannelSocket } from './exec-session.ts';
import { containerStatus, requireContainer, requirePod } from './pod-lookup.ts';

type Deps = Required<Pick<KubeletApiDeps, 'pods' | 'redis' | 'keys' | 'log' | 'blockMs'>>;
type Params = { namespace: string; pod: string; container: string; uid?: string };
type Query = Record<string, string | string[] | undefined>;

/** A validated exec request, ready to become a session. */
export interface ExecPlan {
  readonly workerId: string;
  readonly start: ExecStart;
  readonly stdout: boolean;
  readonly stderr: boolean;
}

const all = (q: Query, name: string): string[] => {
  const v = q[name];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
};
// The API server forwards these as "1"; clients calling the kubelet directly often send "true".
const flag = (q: Query, name: string): boolean => all(q, name).some((v) => v === '1' || v.toLowerCase() === 'true');

/** The kubelet's checks of an exec request plus burstlet's: the pod must be on a worker. */
export async function planExec(deps: Deps, params: Params, query: Query): Promise<ExecPlan> {
  const command = all(query, 'command');
  const tty = flag(query, 'tty');
  const stdin = flag(query, 'stdin');
  const stdout = flag(query, 'stdout');
  // Like the kubelet: with a tty, stderr is merged into stdout.
  const stderr = flag(query, 'stderr') && !tty;
  if (!stdin && !stdout && !stderr) throw new BurstletError('INVALID_INPUT', 'you must specify at least 1 of stdin, stdout, stderr');
  if (command.length === 0) throw new BurstletError('INVALID_INPUT', 'you must specify at least one command for the container');
  const pod = await requirePod(deps.pods, params.namespace, params.pod);
  if (params.uid !== undefined && params.uid !== pod.metadata.uid) throw new BurstletError('NOT_FOUND', `pod "${params.pod}" with UID ${params.uid} does not exist`);
  requireContainer(pod, params.container);
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') throw new BurstletError('INVALID_INPUT', `cannot exec into a container in a completed pod; current phase is ${phase}`);
  const state = containerStatus(pod, params.container)?.state;
  if (state && !state.running) throw new BurstletError('INVALID_INPUT', `container "${params.container}" in pod "${params.pod}" is not running`);
  const workerId = await deps.redis.get(deps.keys.podWorker(pod.metadata.uid));
  if (!workerId) throw new BurstletError('INVALID_INPUT', `pod "${params.pod}" is not running on any worker yet`);
  if ((await deps.redis.exists(deps.keys.worker(workerId))) === 0) throw new BurstletError('INVALID_INPUT', `worker ${workerId} running pod "${params.pod}" is gone (no heartbeat)`);
  return {
    workerId,
    start: { kind: 'exec', uid: pod.metadata.uid, sessionId: randomUUID(), container: params.container, command, stdin, tty },
    stdout,
    stderr,
  };
}

// Answer for requests that are not WebSocket upgrades (kubectl's SPDY, plain HTTP).
function notWebSocket(request: FastifyRequest): never {
  const upgrade = String(request.headers.upgrade ?? '');
  if (/spdy/i.test(upgrade)) {
    throw new BurstletError('NOT_IMPLEMENTED', 'SPDY/3.1 streaming is not supported by burstlet; use a WebSocket client (subprotocol v5.channel.k8s.io, v4.channel.k8s.io or channel.k8s.io)');
  }
  throw new BurstletError('INVALID_INPUT', 'Upgrade request required: exec needs a WebSocket upgrade (subprotocol v5.channel.k8s.io, v4.channel.k8s.io or channel.k8s.io)');
}

export function execRoute(app: FastifyInstance, deps: Deps): void {
  const plans = new WeakMap<FastifyRequest, ExecPlan>();
  const preHandler = async (request: FastifyRequest) => {
    const plan = await planExec(deps, request.params as Params, request.query as Query);
    // Node hands every Upgrade request (SPDY too) to the WebSocket plugin; only real ones pass.
    if (!request.ws || !/^websocket$/i.test(String(request.headers.upgrade ?? ''))) notWebSocket(request);
    plans.set(request, plan);
  };
  for (const url of ['/exec/:namespace/:pod/:container', '/exec/:namespace/:pod/:uid/:container']) {
    app.route({
      method: 'GET',
      url,
      preHandler,
      handler: async (request) => notWebSocket(request),
      wsHandler: (socket, request) => {
        const plan = plans.get(request)!;
        const codec = channelCodec(socket.protocol || 'channel.k8s.io');
        void runExecSession(socket as unknown as ChannelSocket, { ...deps, ...plan, codec });
      },
    });
    // kubectl's SPDY client POSTs. Refused in a hook: the WebSocket plugin takes over any
    // Upgrade request once a route handler runs.
    app.route({
      method: 'POST',
      url,
      preHandler: async (request) => {
        await planExec(deps, request.params as Params, request.query as Query);
        notWebSocket(request);
      },
      handler: async (request) => notWebSocket(request),
    });
  }
}
