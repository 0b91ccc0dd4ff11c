/**
 * One Kubernetes container → the PodJob container: resources normalised to millicores and
 * bytes, env resolved, Kubernetes sub-objects (probes, lifecycle, securityContext) passed
 * through for the worker to interpret.
 */
import { BurstletError } from '../../src/errors.ts';
import { bytes, cpuMillis } from '../../src/quantity.ts';
import type { ContainerSpec, ResourceAmounts } from '../../src/schema/pod-job.ts';
import type { KubeObject } from '../kube-client.ts';
import { resolveEnv } from './env.ts';
import type { Sources } from './sources.ts';

const PASS_THROUGH = [
  'imagePullPolicy', 'command', 'args', 'workingDir', 'securityContext', 'startupProbe', 'livenessProbe',
  'readinessProbe', 'lifecycle', 'restartPolicy', 'terminationMessagePath', 'terminationMessagePolicy',
  'stdin', 'stdinOnce', 'tty',
] as const;

export async function translateContainer(pod: KubeObject, c: KubeObject, sources: Sources): Promise<ContainerSpec> {
  const out: Record<string, unknown> = { name: c.name, image: c.image };
  for (const k of PASS_THROUGH) if (c[k] !== undefined && c[k] !== null) out[k] = c[k];
  const env = await resolveEnv(pod, c, sources);
  if (env.length) out.env = env;
  if (c.ports?.length) {
    out.ports = c.ports.map((p: KubeObject) => ({ name: p.name, containerPort: p.containerPort, hostPort: p.hostPort, protocol: p.protocol, hostIP: p.hostIP }));
  }
  if (c.volumeMounts?.length) {
    out.volumeMounts = c.volumeMounts.map((m: KubeObject) => ({ name: m.name, mountPath: m.mountPath, subPath: m.subPath || undefined, readOnly: m.readOnly, mountPropagation: m.mountPropagation }));
  }
  const requests = amounts(c.name, c.resources?.requests);
  const limits = amounts(c.name, c.resources?.limits);
  if (requests) out.requests = requests;
  if (limits) out.limits = limits;
  return out as ContainerSpec;
}

function amounts(container: string, r: Record<string, string | number> | undefined): ResourceAmounts | undefined {
  if (!r) return undefined;
  const out: ResourceAmounts = {};
  try {
    if (r.cpu !== undefined) out.cpuMillis = cpuMillis(r.cpu);
    if (r.memory !== undefined) out.memoryBytes = bytes(r.memory);
    if (r['ephemeral-storage'] !== undefined) out.ephemeralStorageBytes = bytes(r['ephemeral-storage']);
  } catch (err) {
    throw new BurstletError('INVALID_INPUT', `container "${container}": ${(err as Error).message}`, { cause: err });
  }
  return Object.keys(out).length ? out : undefined;
}
