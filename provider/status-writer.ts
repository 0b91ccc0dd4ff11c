/**
 * Writes `pods/status` by PATCH (never GET + PUT: node credentials may not read the status
 * subresource, and a patch without resourceVersion cannot go stale). The patch carries a UID
 * precondition so a pod recreated under the same name is never written with another pod's
 * state. A 409 is retried; a 404/UID mismatch means the pod is gone and is not an error.
 */
import type { ProviderMetrics } from './metrics.ts';
import { isConflict, isNotFound, KubeApiError, paths, type Kube, type KubeObject } from './kube-client.ts';

export type WriteResult = 'written' | 'gone' | 'unchanged';

export type StatusPatch = { status: KubeObject };

/**
 * PATCHes `pods/status` on the `status` budget (ahead of reads and token requests). `patch` may
 * be a function: it is called when the rate limiter lets the write go (and again for a 409
 * retry), so a write that waited carries the newest state; undefined from it means nothing is
 * left to write ('unchanged').
 */
export async function writePodStatus(kube: Kube, pod: KubeObject, patch: StatusPatch | (() => StatusPatch | undefined), metrics?: ProviderMetrics): Promise<WriteResult> {
  const { namespace, name, uid } = pod.metadata;
  let sent = false;
  const body = () => {
    const p = typeof patch === 'function' ? patch() : patch;
    sent = p !== undefined;
    return p && { metadata: { uid }, ...p };
  };
  for (let attempt = 0; ; attempt++) {
    const end = metrics?.statusWriteLatency.startTimer();
    try {
      await kube.request('PATCH', `${paths.pod(namespace, name)}/status`, { body, patch: 'strategic', budget: 'status' });
      if (!sent) return 'unchanged';
      end?.();
      return 'written';
    } catch (err) {
      end?.();
      if (isNotFound(err) || isUidMismatch(err)) return 'gone';
      metrics?.statusWriteErrors.inc({ reason: err instanceof KubeApiError ? err.reason : 'network' });
      if (!isConflict(err) || attempt >= 4) throw err;
    }
  }
}

// kube-apiserver answers a UID mismatch with 409 "Precondition failed: UID in precondition";
// the project's test server answers 422 "metadata.uid ... field is immutable". Both: gone.
function isUidMismatch(err: unknown): boolean {
  if (!(err instanceof KubeApiError)) return false;
  return (err.status === 409 && /[Pp]recondition failed: UID/.test(err.message)) || (err.status === 422 && /metadata\.uid/.test(err.message));
}
