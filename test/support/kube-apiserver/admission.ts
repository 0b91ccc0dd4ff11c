// Mutating/validating admission the default kube-apiserver runs on creates:
// NamespaceLifecycle, ServiceAccount (with the kube-api-access projected volume),
// DefaultTolerationSeconds, Priority, plus the defaulting of pod fields.
import { forbidden, notFound } from './status.ts';
import { isObject, randomSuffix, type KubeObject } from './objects.ts';
import type { ResourceDef } from './resources.ts';
import type { Store } from './store.ts';

/** Namespaces that always exist and cannot be deleted. */
export const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

/** NamespaceLifecycle: the namespace must exist and not be terminating. */
export function checkNamespace(store: Store, def: ResourceDef, namespace: string | undefined): void {
  if (!def.namespaced || namespace === undefined) return;
  const ns = store.peek('namespaces', undefined, namespace);
  if (!ns) throw notFound({ group: '', resource: 'namespaces' }, namespace);
  if (isObject(ns.status) && ns.status.phase === 'Terminating') {
    throw forbidden({ group: def.group, resource: def.resource }, '', `unable to create new content in namespace ${namespace} because it is being terminated`);
  }
}

function imagePullPolicy(image: string): string {
  const last = image.split('/').pop() ?? image;
  if (image.includes('@')) return 'IfNotPresent';
  const tag = last.includes(':') ? last.slice(last.indexOf(':') + 1) : '';
  return !tag || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultContainer(c: Record<string, unknown>): void {
  c.terminationMessagePath ??= '/dev/termination-log';
  c.terminationMessagePolicy ??= 'File';
  if (typeof c.image === 'string') c.imagePullPolicy ??= imagePullPolicy(c.image);
  c.resources ??= {};
}

const DEFAULT_TOLERATIONS = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
];

/** Field defaults of a Pod as the v1 defaulting functions and admission set them. */
function defaultPodSpec(spec: Record<string, unknown>): void {
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.securityContext ??= {};
  spec.schedulerName ??= 'default-scheduler';
  spec.enableServiceLinks ??= true;
  spec.priority ??= 0;
  spec.preemptionPolicy ??= 'PreemptLowerPriority';
  for (const list of ['containers', 'initContainers']) {
    if (Array.isArray(spec[list])) for (const c of spec[list] as unknown[]) if (isObject(c)) defaultContainer(c);
  }
  const tolerations = Array.isArray(spec.tolerations) ? (spec.tolerations as Record<string, unknown>[]) : [];
  for (const t of DEFAULT_TOLERATIONS) {
    const has = tolerations.some((x) => isObject(x) && (x.key === t.key || (x.operator === 'Exists' && !x.key)) && (!x.effect || x.effect === 'NoExecute'));
    if (!has) tolerations.push({ ...t });
  }
  spec.tolerations = tolerations;
}

/** The projected volume the ServiceAccount admission plugin adds for the API token. */
function apiAccessVolume(): { volume: Record<string, unknown>; mount: Record<string, unknown> } {
  const name = `kube-api-access-${randomSuffix()}`;
  const volume = {
    name,
    projected: {
      defaultMode: 420,
      sources: [
        { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
      ],
    },
  };
  return { volume, mount: { name, readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' } };
}

/** ServiceAccount admission: default the account, require it to exist, mount its token. */
function admitServiceAccount(store: Store, pod: KubeObject, spec: Record<string, unknown>): void {
  const account = (spec.serviceAccountName as string | undefined) || (spec.serviceAccount as string | undefined) || 'default';
  spec.serviceAccountName = account;
  spec.serviceAccount = account;
  const ns = pod.metadata.namespace!;
  if (!store.peek('serviceaccounts', ns, account)) {
    throw forbidden({ group: '', resource: 'pods' }, pod.metadata.name ?? '', `error looking up service account ${ns}/${account}: serviceaccount "${account}" not found`);
  }
  if (spec.automountServiceAccountToken === false) return;
  const containers = [...((spec.containers as unknown[]) ?? []), ...((spec.initContainers as unknown[]) ?? [])].filter(isObject);
  const mountPath = '/var/run/secrets/kubernetes.io/serviceaccount';
  if (containers.every((c) => ((c.volumeMounts as Record<string, unknown>[]) ?? []).some((m) => m.mountPath === mountPath))) return;
  const { volume, mount } = apiAccessVolume();
  spec.volumes = [...((spec.volumes as unknown[]) ?? []), volume];
  for (const c of containers) {
    const mounts = (c.volumeMounts as Record<string, unknown>[]) ?? [];
    if (!mounts.some((m) => m.mountPath === mountPath)) c.volumeMounts = [...mounts, { ...mount }];
  }
}

/** Runs the create-time admission chain for an object (mutates it). */
export function admitCreate(store: Store, def: ResourceDef, obj: KubeObject): void {
  checkNamespace(store, def, obj.metadata.namespace);
  if (def.kind !== 'Pod') return;
  const spec = isObject(obj.spec) ? obj.spec : (obj.spec = {});
  admitServiceAccount(store, obj, spec as Record<string, unknown>);
  defaultPodSpec(spec as Record<string, unknown>);
}
