/**
 * The one place where errors become HTTP answers: a BurstletError's code gives the HTTP status
 * (src/errors.ts catalogue); the body is a Kubernetes `Status` object for clients that accept
 * JSON, else the bare message as the kubelet writes it.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { asBurstletError, BurstletError } from '../../src/errors.ts';

/** metav1.Status as the API server writes it. */
export interface KubeStatus {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: { causes?: { reason: string; message: string }[] };
  code?: number;
}

// Kubernetes StatusReason per HTTP status, as k8s.io/apimachinery/pkg/api/errors sets them;
// statuses without one keep the catalogue's reason.
const STATUS_REASONS: Record<number, string> = {
  400: 'BadRequest', 401: 'Unauthorized', 403: 'Forbidden', 404: 'NotFound', 405: 'MethodNotAllowed',
  409: 'Conflict', 413: 'RequestEntityTooLarge', 422: 'Invalid', 429: 'TooManyRequests', 500: 'InternalError',
  503: 'ServiceUnavailable', 504: 'Timeout',
};

/** The Status body and HTTP status for an error (anything not a BurstletError is INTERNAL). */
export function errorStatus(err: unknown): { httpStatus: number; body: KubeStatus } {
  const e = asBurstletError(fastifyClientError(err) ?? err);
  return {
    httpStatus: e.httpStatus,
    body: {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
      message: e.message,
      reason: STATUS_REASONS[e.httpStatus] ?? e.reason,
      details: { causes: [{ reason: e.reason, message: e.code }] },
      code: e.httpStatus,
    },
  };
}

// Fastify's own 4xx errors (bad content type, body too large, ...) stay client errors.
function fastifyClientError(err: unknown): BurstletError | undefined {
  const status = (err as FastifyError | undefined)?.statusCode;
  if (err instanceof BurstletError || typeof status !== 'number' || status >= 500) return undefined;
  return new BurstletError(status === 404 ? 'NOT_FOUND' : 'INVALID_INPUT', (err as Error).message, { cause: err });
}

/**
 * The kubelet answers errors as plain text (the message), which is what the API server passes
 * on to kubectl ("unable to upgrade connection: ..."); clients asking for JSON get the Status.
 */
function sendError(request: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply {
  const { httpStatus, body } = errorStatus(err);
  if (httpStatus >= 500 && httpStatus !== 501) request.log.error({ err }, 'kubelet API request failed');
  // A refused upgrade's socket is destroyed after the answer: tell the client not to reuse it.
  if (request.headers.upgrade) void reply.header('connection', 'close');
  void reply.code(httpStatus);
  if (/\bapplication\/json\b/i.test(request.headers.accept ?? '')) return reply.type('application/json').send(body);
  return reply.type('text/plain; charset=utf-8').send(body.message);
}

/** Installs the error and not-found handlers (Status bodies, or plain text; see sendError). */
export function installStatusErrors(app: FastifyInstance): void {
  app.setErrorHandler((err, request, reply) => sendError(request, reply, err));
  app.setNotFoundHandler((request, reply) =>
    sendError(request, reply, new BurstletError('NOT_FOUND', `no kubelet API route for ${request.method} ${request.url.split('?')[0]}`)),
  );
}
