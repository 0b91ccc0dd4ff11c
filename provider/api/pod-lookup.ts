/**
 * Finding the pod and container a kubelet API path names, with the kubelet's 404 wording.
 */
import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { BurstletError } from '../../src/errors.ts';
import type { PodSource } from './deps.ts';

/** The pod, or NOT_FOUND (404) "pod "x" does not exist" like the kubelet. A pod without UID is unusable. */
export async function requirePod(pods: PodSource, namespace: string, name: string): Promise<V1Pod & { metadata: { uid: string } }> {
  const pod = await pods.getPod(namespace, name);
  if (!pod) throw new BurstletError('NOT_FOUND', `pod "${name}" does not exist`, { details: { namespace, name } });
  if (!pod.metadata?.uid) throw new BurstletError('INTERNAL', `pod ${namespace}/${name} has no metadata.uid`);
  return pod as V1Pod & { metadata: { uid: string } };
}

/** Throws NOT_FOUND unless the pod declares the container (regular, init or ephemeral). */
export function requireContainer(pod: V1Pod, container: string): void {
  const spec = pod.spec;
  const names = [...(spec?.containers ?? []), ...(spec?.initContainers ?? []), ...(spec?.ephemeralContainers ?? [])].map((c) => c.name);
  if (!names.includes(container)) throw new BurstletError('NOT_FOUND', `container "${container}" not found in pod "${pod.metadata?.name}"`);
}

/** The container's status as last written to the pod, if any. */
export function containerStatus(pod: V1Pod, container: string): V1ContainerStatus | undefined {
  const s = pod.status;
  return [...(s?.containerStatuses ?? []), ...(s?.initContainerStatuses ?? []), ...(s?.ephemeralContainerStatuses ?? [])].find((c) => c.name === container);
}

/** True once the container can write no more logs: it terminated, the pod did, or the pod is gone. */
export function containerDone(pod: V1Pod | undefined, container: string): boolean {
  if (!pod || isTerminalPhase(pod)) return true;
  return containerStatus(pod, container)?.state?.terminated !== undefined;
}

const isTerminalPhase = (pod: V1Pod): boolean => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
