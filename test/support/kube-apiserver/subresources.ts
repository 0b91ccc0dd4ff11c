// POST subresources of pods and service accounts: binding, eviction, token (TokenRequest).
import type { ServerContext } from './context.ts';
import type { AdmitFn } from './node-restriction.ts';
import { clone, isObject, timestamp, type KubeObject } from './objects.ts';
import { findResource } from './resources.ts';
import { ApiError, badRequest, conflict, invalid, notFound, type StatusObject } from './status.ts';

const created = (): StatusObject => ({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
const POD = findResource('', 'v1', 'pods')!;

/** pods/binding: what the scheduler posts to assign a node; sets spec.nodeName and PodScheduled. */
export function bindPod(ctx: ServerContext, namespace: string, name: string, body: unknown): StatusObject {
  const pod = ctx.registry.getStored(POD, namespace, name);
  const target = isObject(body) && isObject(body.target) ? body.target : {};
  if (typeof target.name !== 'string' || !target.name) {
    throw invalid('', 'Binding', name, [{ reason: 'FieldValueRequired', message: 'Required value', field: 'target.name' }]);
  }
  const spec = isObject(pod.spec) ? pod.spec : {};
  if (spec.nodeName) throw conflict({ group: '', resource: 'pods/binding' }, name, `pod ${name} is already assigned to node "${String(spec.nodeName)}"`);
  if (pod.metadata.deletionTimestamp) throw conflict({ group: '', resource: 'pods/binding' }, name, `pod ${name} is being deleted, cannot be assigned to a host`);
  const bound = clone(pod);
  (bound.spec as Record<string, unknown>).nodeName = target.name;
  const status = isObject(bound.status) ? bound.status : (bound.status = {});
  const conditions = (Array.isArray(status.conditions) ? status.conditions : []).filter((c) => !(isObject(c) && c.type === 'PodScheduled'));
  status.conditions = [...conditions, { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: timestamp() }];
  ctx.store.update(POD.storage, bound);
  return created();
}

/** pods/eviction: deletes the pod with the eviction's deleteOptions (no PodDisruptionBudgets exist here). */
export function evictPod(ctx: ServerContext, namespace: string, name: string, body: unknown, admit?: AdmitFn): StatusObject {
  const options = isObject(body) && isObject(body.deleteOptions) ? body.deleteOptions : {};
  ctx.registry.delete(POD, namespace, name, {
    gracePeriodSeconds: typeof options.gracePeriodSeconds === 'number' ? options.gracePeriodSeconds : undefined,
    preconditions: isObject(options.preconditions) ? (options.preconditions as { uid?: string }) : undefined,
  }, admit);
  return created();
}

const MAX_EXPIRATION = 2 ** 32;
// The kubelet's default projected-token lifetime; such pod-bound tokens for the API audiences get
// a one-year JWT with warnafter (--service-account-extend-token-expiration, on by default).
const WARN_ONLY_EXPIRATION = 3607;
const EXTENDED_EXPIRATION = 365 * 24 * 3600;

/** serviceaccounts/token: a TokenRequest answered with a signed, optionally pod-bound JWT. */
export function requestToken(ctx: ServerContext, namespace: string, name: string, body: unknown, admit?: AdmitFn): KubeObject {
  const sa = ctx.store.get('serviceaccounts', namespace, name);
  if (!sa) throw notFound({ group: '', resource: 'serviceaccounts' }, name);
  const request = (isObject(body) ? clone(body) : {}) as KubeObject;
  request.metadata = isObject(request.metadata) ? request.metadata : {};
  const spec = isObject(request.spec) ? request.spec : (request.spec = {});
  admit?.(request, undefined);
  const expiration = spec.expirationSeconds ?? 3600;
  if (typeof expiration !== 'number' || expiration < ctx.minTokenExpirationSeconds || expiration > MAX_EXPIRATION) {
    const detail = typeof expiration === 'number' && expiration > MAX_EXPIRATION ? 'may not specify a duration larger than 2^32 seconds' : `may not specify a duration less than ${minimumText(ctx.minTokenExpirationSeconds)}`;
    throw invalid('authentication.k8s.io', 'TokenRequest', name, [{ reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(expiration)}: ${detail}`, field: 'spec.expirationSeconds' }]);
  }
  const audiences = Array.isArray(spec.audiences) && spec.audiences.length > 0 ? (spec.audiences as string[]) : ctx.issuer.apiAudiences;
  const claim = { namespace, serviceaccount: { name, uid: sa.metadata.uid! } } as Parameters<typeof ctx.issuer.issue>[0];
  const ref = isObject(spec.boundObjectRef) ? spec.boundObjectRef : undefined;
  if (ref) bindClaim(ctx, claim, ref, namespace, name);
  const extend = claim.pod !== undefined && expiration === WARN_ONLY_EXPIRATION && audiences.every((a) => ctx.issuer.apiAudiences.includes(a));
  const { token, claims } = extend ? ctx.issuer.issue(claim, audiences, EXTENDED_EXPIRATION, expiration) : ctx.issuer.issue(claim, audiences, expiration);
  // The status reports the requested lifetime even when the JWT itself lives longer.
  const expiresAt = claims.iat + expiration;
  return {
    kind: 'TokenRequest', apiVersion: 'authentication.k8s.io/v1',
    metadata: { name, namespace, creationTimestamp: null as unknown as string },
    spec: { audiences, expirationSeconds: expiration, boundObjectRef: ref ?? null },
    status: { token, expirationTimestamp: timestamp(new Date(expiresAt * 1000)) },
  };
}

// The apiserver's wording for its fixed 600 s; a test-lowered minimum is named in seconds.
const minimumText = (seconds: number) => (seconds === 600 ? '10 minutes' : `${seconds} seconds`);

function bindClaim(ctx: ServerContext, claim: Parameters<ServerContext['issuer']['issue']>[0], ref: Record<string, unknown>, namespace: string, account: string): void {
  if (ref.kind !== 'Pod' || (ref.apiVersion !== undefined && ref.apiVersion !== 'v1')) {
    throw badRequest(`cannot bind token to object of type ${String(ref.apiVersion ?? '')}, Kind=${String(ref.kind ?? '')}`);
  }
  const podName = String(ref.name ?? '');
  const pod = ctx.store.get('pods', namespace, podName);
  if (!pod) throw notFound({ group: '', resource: 'pods' }, podName);
  const spec = isObject(pod.spec) ? pod.spec : {};
  if (spec.serviceAccountName !== account) {
    throw badRequest(`cannot bind token for serviceaccount "${account}" to pod running with different serviceaccount name.`);
  }
  if (ref.uid && ref.uid !== pod.metadata.uid) {
    throw conflict({ group: '', resource: 'Pod' }, podName, `the UID in the bound object reference (${String(ref.uid)}) does not match the UID in record. The object might have been deleted and then recreated`);
  }
  claim.pod = { name: podName, uid: pod.metadata.uid! };
  const node = typeof spec.nodeName === 'string' ? ctx.store.get('nodes', undefined, spec.nodeName) : undefined;
  if (node) claim.node = { name: node.metadata.name!, uid: node.metadata.uid! };
}

/** For handlers that reject a subresource this server does not implement. */
export function notImplemented(what: string): ApiError {
  return new ApiError(501, 'NotImplemented', `${what} is not implemented by the burstlet test API server`);
}
