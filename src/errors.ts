/**
 * The one error catalogue. Every failure a user can cause has a stable code here, the
 * Kubernetes reason it becomes on a pod (container waiting/terminated reason, or pod
 * status reason) and the HTTP status the kubelet API answers with.
 */
export interface CatalogueEntry {
  /** Kubernetes-style reason shown on the pod or event. */
  readonly reason: string;
  /** HTTP status when surfaced through the kubelet API or UI. */
  readonly httpStatus: number;
  /** True when retrying the same input may succeed (network, missing object). */
  readonly retryable: boolean;
}

export const catalogue = {
  // configuration and input
  CONFIG_INVALID: { reason: 'InvalidConfiguration', httpStatus: 400, retryable: false },
  INVALID_INPUT: { reason: 'InvalidInput', httpStatus: 400, retryable: false },
  NOT_FOUND: { reason: 'NotFound', httpStatus: 404, retryable: false },
  NOT_IMPLEMENTED: { reason: 'NotImplemented', httpStatus: 501, retryable: false },
  CONFLICT: { reason: 'Conflict', httpStatus: 409, retryable: true },
  UNAUTHORIZED: { reason: 'Unauthorized', httpStatus: 401, retryable: false },
  // messages on Redis
  MESSAGE_MALFORMED: { reason: 'MalformedMessage', httpStatus: 400, retryable: false },
  // images
  IMAGE_REFERENCE_INVALID: { reason: 'InvalidImageName', httpStatus: 400, retryable: false },
  IMAGE_NOT_FOUND: { reason: 'ErrImagePull', httpStatus: 404, retryable: true },
  IMAGE_PULL_FAILED: { reason: 'ErrImagePull', httpStatus: 502, retryable: true },
  IMAGE_PULL_BACKOFF: { reason: 'ImagePullBackOff', httpStatus: 503, retryable: true },
  IMAGE_AUTH_FAILED: { reason: 'ErrImagePull', httpStatus: 401, retryable: true },
  IMAGE_PLATFORM_MISSING: { reason: 'ErrImagePull', httpStatus: 404, retryable: false },
  IMAGE_DIGEST_MISMATCH: { reason: 'ErrImagePull', httpStatus: 502, retryable: true },
  IMAGE_LAYER_HOSTILE: { reason: 'ErrImagePull', httpStatus: 422, retryable: false },
  IMAGE_TOO_LARGE: { reason: 'ErrImagePull', httpStatus: 413, retryable: false },
  // pods and containers
  CONTAINER_CONFIG: { reason: 'CreateContainerConfigError', httpStatus: 422, retryable: true },
  CONTAINER_CREATE: { reason: 'CreateContainerError', httpStatus: 500, retryable: true },
  CONTAINER_RUN: { reason: 'RunContainerError', httpStatus: 500, retryable: true },
  CRASH_LOOP: { reason: 'CrashLoopBackOff', httpStatus: 503, retryable: true },
  OOM_KILLED: { reason: 'OOMKilled', httpStatus: 500, retryable: false },
  DEADLINE_EXCEEDED: { reason: 'DeadlineExceeded', httpStatus: 504, retryable: false },
  POD_UNSUPPORTED: { reason: 'UnsupportedPodSpec', httpStatus: 422, retryable: false },
  POD_FORBIDDEN: { reason: 'Forbidden', httpStatus: 403, retryable: false },
  INSUFFICIENT_RESOURCES: { reason: 'OutOfResources', httpStatus: 503, retryable: true },
  RUNTIME_FAILED: { reason: 'RuntimeError', httpStatus: 500, retryable: true },
  INTERNAL: { reason: 'InternalError', httpStatus: 500, retryable: true },
} as const satisfies Record<string, CatalogueEntry>;

export type ErrorCode = keyof typeof catalogue;

/** An error with a stable catalogue code; `cause` carries the underlying error. */
export class BurstletError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BurstletError';
    this.code = code;
    this.details = options.details ?? {};
  }

  get reason(): string {
    return catalogue[this.code].reason;
  }

  get httpStatus(): number {
    return catalogue[this.code].httpStatus;
  }

  get retryable(): boolean {
    return catalogue[this.code].retryable;
  }
}

/** Normalises anything thrown into a BurstletError (unknown errors become INTERNAL). */
export function asBurstletError(err: unknown, fallback: ErrorCode = 'INTERNAL'): BurstletError {
  if (err instanceof BurstletError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new BurstletError(fallback, message, { cause: err });
}

/** Prefixes context to an error's message while keeping its code (like crun's error wrapping). */
export function wrapError(err: unknown, context: string, fallback: ErrorCode = 'INTERNAL'): BurstletError {
  const inner = asBurstletError(err, fallback);
  return new BurstletError(inner.code, `${context}: ${inner.message}`, { cause: err, details: { ...inner.details } });
}
