/**
 * Which pool (queue) runs a pod: the handler of its RuntimeClass (`lambda` → the lambda
 * pool), or `default` without one. A RuntimeClass that does not exist fails the pod like
 * the kubelet's "RuntimeClass not found" (CreateContainerConfigError, retried).
 */
import { BurstletError } from '../../src/errors.ts';
import type { KubeObject } from '../kube-client.ts';
import type { Sources } from './sources.ts';

export const DEFAULT_POOL = 'default';
const POOL_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export async function poolOf(pod: KubeObject, sources: Sources): Promise<string> {
  const name: string | undefined = pod.spec?.runtimeClassName;
  if (!name) return DEFAULT_POOL;
  const rc = await sources.runtimeClass(name);
  if (!rc) throw new BurstletError('CONTAINER_CONFIG', `RuntimeClass "${name}" not found`, { details: { kind: 'runtimeclass', name } });
  const handler: string = rc.handler ?? '';
  if (!POOL_NAME.test(handler) || handler.length > 63) {
    throw new BurstletError('POD_UNSUPPORTED', `RuntimeClass "${name}": handler ${JSON.stringify(handler)} is not a valid pool name`);
  }
  return handler;
}
