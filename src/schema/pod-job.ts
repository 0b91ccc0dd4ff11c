/**
 * PodJob: everything a worker needs to run one pod, resolved by the provider. Workers never
 * talk to the Kubernetes API, so env `valueFrom`, configMap/secret/downwardAPI/projected
 * volumes, the service-account token and pull secrets arrive here already resolved.
 * The BullMQ job id is the pod UID, so enqueuing the same pod twice is a no-op.
 */
import {
  anyObject, array, boolean, integer, literal, object, optional, record, string, type Infer,
} from './validate.ts';

export const POD_JOB_VERSION = 1;

const name = string({ min: 1, max: 253 });

/** An env var with its value resolved; `fieldPath` marks values only the worker knows (podIP). */
export const envVar = object({
  name: string({ min: 1 }),
  value: optional(string()),
  fieldPath: optional(literal('status.podIP', 'status.podIPs', 'status.hostIP', 'status.hostIPs')),
});

export const containerPort = object({
  name: optional(string()),
  containerPort: integer({ min: 1, max: 65535 }),
  hostPort: optional(integer({ min: 1, max: 65535 })),
  protocol: optional(literal('TCP', 'UDP', 'SCTP')),
  hostIP: optional(string()),
});

export const volumeMount = object({
  name,
  mountPath: string({ min: 1 }),
  subPath: optional(string()),
  readOnly: optional(boolean()),
  mountPropagation: optional(string()),
});

/** Resource quantities normalised by the provider: cpu in millicores, the rest in bytes/units. */
export const resourceAmounts = object({
  cpuMillis: optional(integer({ min: 0 })),
  memoryBytes: optional(integer({ min: 0 })),
  ephemeralStorageBytes: optional(integer({ min: 0 })),
  pids: optional(integer({ min: 0 })),
});

export const container = object({
  name,
  image: string({ min: 1 }),
  imagePullPolicy: optional(literal('Always', 'IfNotPresent', 'Never')),
  command: optional(array(string())),
  args: optional(array(string())),
  workingDir: optional(string()),
  env: optional(array(envVar)),
  ports: optional(array(containerPort)),
  volumeMounts: optional(array(volumeMount)),
  requests: optional(resourceAmounts),
  limits: optional(resourceAmounts),
  // Kubernetes-shaped sub-objects, interpreted by the worker (v1.Probe, v1.Lifecycle, ...).
  securityContext: optional(anyObject()),
  startupProbe: optional(anyObject()),
  livenessProbe: optional(anyObject()),
  readinessProbe: optional(anyObject()),
  lifecycle: optional(anyObject()),
  restartPolicy: optional(literal('Always')),
  terminationMessagePath: optional(string()),
  terminationMessagePolicy: optional(literal('File', 'FallbackToLogsOnError')),
  stdin: optional(boolean()),
  stdinOnce: optional(boolean()),
  tty: optional(boolean()),
});

/** A file a volume holds, content base64 (configMap binaryData and secrets are bytes). */
export const volumeFile = object({
  path: string({ min: 1 }),
  contentBase64: string(),
  mode: optional(integer({ min: 0, max: 0o7777 })),
});

export const volume = object({
  name,
  type: literal('emptyDir', 'configMap', 'secret', 'downwardAPI', 'projected', 'hostPath', 'serviceAccountToken'),
  medium: optional(literal('', 'Memory')),
  sizeLimitBytes: optional(integer({ min: 0 })),
  files: optional(array(volumeFile)),
  defaultMode: optional(integer({ min: 0, max: 0o7777 })),
  hostPath: optional(string({ min: 1 })),
  hostPathType: optional(string()),
  readOnly: optional(boolean()),
});

export const registryCredential = object({
  registry: string({ min: 1 }),
  username: optional(string()),
  password: optional(string()),
  identityToken: optional(string()),
});

export const podJob = object({
  version: literal(POD_JOB_VERSION),
  uid: string({ min: 1, max: 128 }),
  namespace: name,
  name,
  pool: string({ min: 1, max: 63, pattern: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/ }),
  enqueuedAt: integer({ min: 0 }),
  labels: optional(record(string())),
  annotations: optional(record(string())),
  nodeName: optional(string()),
  serviceAccountName: optional(string()),
  restartPolicy: literal('Always', 'OnFailure', 'Never'),
  terminationGracePeriodSeconds: optional(integer({ min: 0 })),
  activeDeadlineSeconds: optional(integer({ min: 1 })),
  hostNetwork: optional(boolean()),
  hostPID: optional(boolean()),
  hostIPC: optional(boolean()),
  hostname: optional(string()),
  subdomain: optional(string()),
  hostAliases: optional(array(object({ ip: string(), hostnames: optional(array(string())) }))),
  dnsPolicy: optional(string()),
  dnsConfig: optional(object({
    nameservers: optional(array(string())),
    searches: optional(array(string())),
    options: optional(array(object({ name: string(), value: optional(string()) }))),
  })),
  securityContext: optional(anyObject()),
  initContainers: optional(array(container)),
  containers: array(container, { max: 64 }),
  volumes: optional(array(volume)),
  imagePullCredentials: optional(array(registryCredential)),
  runtimeClassName: optional(string()),
});

export type PodJob = Infer<typeof podJob>;
export type ContainerSpec = Infer<typeof container>;
export type VolumeSpec = Infer<typeof volume>;
export type EnvVar = Infer<typeof envVar>;
export type ResourceAmounts = Infer<typeof resourceAmounts>;
export type RegistryCredential = Infer<typeof registryCredential>;

/** Sum of a pod's requests the way the scheduler counts them (max(init), sum(app)). */
export function podRequests(job: Pick<PodJob, 'containers' | 'initContainers'>): Required<Pick<ResourceAmounts, 'cpuMillis' | 'memoryBytes'>> {
  const sum = { cpuMillis: 0, memoryBytes: 0 };
  for (const c of job.containers) {
    sum.cpuMillis += c.requests?.cpuMillis ?? c.limits?.cpuMillis ?? 0;
    sum.memoryBytes += c.requests?.memoryBytes ?? c.limits?.memoryBytes ?? 0;
  }
  for (const c of job.initContainers ?? []) {
    sum.cpuMillis = Math.max(sum.cpuMillis, c.requests?.cpuMillis ?? c.limits?.cpuMillis ?? 0);
    sum.memoryBytes = Math.max(sum.memoryBytes, c.requests?.memoryBytes ?? c.limits?.memoryBytes ?? 0);
  }
  return sum;
}
