/**
 * Pod features burstlet cannot honour. Such a pod fails at once with reason
 * UnsupportedPodSpec and an Event, rather than running differently from what was asked.
 */
import { BurstletError } from '../../src/errors.ts';
import type { KubeObject } from '../kube-client.ts';

/** Volume sources the worker can build from a PodJob. */
export const SUPPORTED_VOLUMES = ['emptyDir', 'configMap', 'secret', 'downwardAPI', 'projected', 'hostPath'] as const;

/** Throws POD_UNSUPPORTED naming the first unsupported feature of the pod. */
export function checkSupported(pod: KubeObject): void {
  const spec = pod.spec ?? {};
  for (const v of spec.volumes ?? []) {
    const kind = Object.keys(v).find((k) => k !== 'name');
    if (!kind || !(SUPPORTED_VOLUMES as readonly string[]).includes(kind)) {
      fail(`volume "${v.name}": ${kind ?? 'no'} volumes are not supported (supported: ${SUPPORTED_VOLUMES.join(', ')})`);
    }
  }
  if (spec.ephemeralContainers?.length) fail('ephemeral containers are not supported');
  if (spec.resourceClaims?.length) fail('resource claims (dynamic resource allocation) are not supported');
  if (spec.os?.name && spec.os.name !== 'linux') fail(`spec.os.name ${JSON.stringify(spec.os.name)}: only linux pods run here`);
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
    for (const d of c.volumeDevices ?? []) fail(`container "${c.name}": volumeDevices (${d.name}) are not supported`);
    for (const m of c.volumeMounts ?? []) {
      if (m.subPathExpr) fail(`container "${c.name}": volumeMounts subPathExpr is not supported`);
    }
  }
}

function fail(message: string): never {
  throw new BurstletError('POD_UNSUPPORTED', message);
}
