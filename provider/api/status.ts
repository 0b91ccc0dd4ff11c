/**
 * The one place where errors become HTTP answers: a BurstletError's code gives the HTTP status
 * (src/errors.ts catalogue) and the body is a Kubernetes `Status` object, so kubectl and
 * client libraries print the message as they do for the API server's errors.
 */
import type { FastifyError, FastifyInstance } from 'fastify';
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

/** Installs the error and not-found handlers that answer with Status bodies. */
export function installStatusErrors(app: FastifyInstance): void {
  app.setErrorHandler((err, request, reply) => {
    const { httpStatus, body } = errorStatus(err);
    if (httpStatus >= 500 && httpStatus !== 501) request.log.error({ err }, 'kubelet API request failed');
    // A refused upgrade's socket is destroyed after the answer: tell the client not to reuse it.
    if (request.headers.upgrade) void reply.header('connection', 'close');
    return reply.code(httpStatus).type('application/json').send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    const { httpStatus, body } = errorStatus(new BurstletError('NOT_FOUND', `no kubelet API route for ${request.method} ${request.url.split('?')[0]}`));
    return reply.code(httpStatus).send(body);
  });
}
