/**
 * Pod → PodJob: the one entry point of translation. Checks the pod is supported, resolves
 * everything the worker must not look up itself, and validates the result against the
 * PodJob schema. Errors are BurstletErrors: POD_UNSUPPORTED / INVALID_INPUT (the pod fails),
 * CONTAINER_CONFIG (a missing configMap/secret/RuntimeClass: retried, like the kubelet).
 */
import { BurstletError } from '../../src/errors.ts';
import { POD_JOB_VERSION, podJob, type PodJob } from '../../src/schema/pod-job.ts';
import { SchemaError } from '../../src/schema/validate.ts';
import type { KubeObject } from '../kube-client.ts';
import { translateContainer } from './containers.ts';
import { poolOf } from './pool.ts';
import { pullCredentials } from './pull-secrets.ts';
import type { Sources } from './sources.ts';
import { checkSupported } from './unsupported.ts';
import { resolveVolumes } from './volumes.ts';

const POD_FIELDS = [
  'nodeName', 'serviceAccountName', 'terminationGracePeriodSeconds', 'activeDeadlineSeconds', 'hostNetwork', 'hostPID',
  'hostIPC', 'hostname', 'subdomain', 'hostAliases', 'dnsPolicy', 'dnsConfig', 'securityContext', 'runtimeClassName',
] as const;

export async function translatePod(pod: KubeObject, sources: Sources, now = Date.now()): Promise<PodJob> {
  checkSupported(pod);
  const spec = pod.spec ?? {};
  const meta = pod.metadata ?? {};
  const job: Record<string, unknown> = {
    version: POD_JOB_VERSION,
    uid: meta.uid,
    namespace: meta.namespace,
    name: meta.name,
    pool: await poolOf(pod, sources),
    enqueuedAt: now,
    restartPolicy: spec.restartPolicy ?? 'Always',
  };
  if (meta.labels && Object.keys(meta.labels).length) job.labels = meta.labels;
  if (meta.annotations && Object.keys(meta.annotations).length) job.annotations = meta.annotations;
  for (const k of POD_FIELDS) if (spec[k] !== undefined && spec[k] !== null && spec[k] !== '') job[k] = spec[k];
  if (spec.initContainers?.length) job.initContainers = await Promise.all(spec.initContainers.map((c: KubeObject) => translateContainer(pod, c, sources)));
  job.containers = await Promise.all((spec.containers ?? []).map((c: KubeObject) => translateContainer(pod, c, sources)));
  const volumes = await resolveVolumes(pod, sources);
  if (volumes.length) job.volumes = volumes;
  const creds = await pullCredentials(pod, sources);
  if (creds.length) job.imagePullCredentials = creds;
  try {
    return podJob(job);
  } catch (err) {
    if (err instanceof SchemaError) throw new BurstletError('INVALID_INPUT', `pod cannot be run: ${err.message}`, { cause: err });
    throw err;
  }
}
