// Namespace lifecycle: the built-in namespaces, what controllers put into every namespace
// (the "default" ServiceAccount, the kube-root-ca.crt ConfigMap), and namespace deletion.
import { randomUUID } from 'node:crypto';
import { SYSTEM_NAMESPACES } from './admission.ts';
import { clone, timestamp, type KubeObject } from './objects.ts';
import { RESOURCES } from './resources.ts';
import { forbidden } from './status.ts';
import type { Store } from './store.ts';

function meta(name: string, namespace?: string): KubeObject['metadata'] {
  const m: KubeObject['metadata'] = { name, uid: randomUUID(), creationTimestamp: timestamp() };
  if (namespace) m.namespace = namespace;
  return m;
}

/** What the serviceaccount and root-ca-cert-publisher controllers create in a new namespace. */
export function populateNamespace(store: Store, namespace: string, caCert: string): void {
  if (!store.get('serviceaccounts', namespace, 'default')) {
    store.create('serviceaccounts', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta('default', namespace) });
  }
  if (!store.get('configmaps', namespace, 'kube-root-ca.crt')) {
    const cm: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('kube-root-ca.crt', namespace), data: { 'ca.crt': caCert } };
    cm.metadata.annotations = { 'kubernetes.io/description': 'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.' };
    store.create('configmaps', cm);
  }
}

/** Creates the namespaces every cluster has, populated, plus the service account of the admin token. */
export function seedCluster(store: Store, caCert: string, adminAccount?: { namespace: string; name: string }): void {
  for (const name of SYSTEM_NAMESPACES) {
    const ns: KubeObject = { apiVersion: 'v1', kind: 'Namespace', metadata: meta(name), spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } };
    ns.metadata.labels = { 'kubernetes.io/metadata.name': name };
    store.create('namespaces', ns);
    populateNamespace(store, name, caCert);
  }
  if (adminAccount && !store.get('serviceaccounts', adminAccount.namespace, adminAccount.name)) {
    store.create('serviceaccounts', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(adminAccount.name, adminAccount.namespace) });
  }
}

/**
 * DELETE of a namespace: the built-in ones are protected (403); others turn Terminating
 * (MODIFIED) and, like the namespace controller does asynchronously, lose their content and
 * then disappear shortly after the response.
 */
export function deleteNamespace(store: Store, name: string, existing: KubeObject): KubeObject {
  if (SYSTEM_NAMESPACES.includes(name)) throw forbidden({ group: '', resource: 'namespaces' }, name, 'this namespace may not be deleted');
  if (existing.metadata.deletionTimestamp) return existing;
  const terminating = clone(existing);
  terminating.metadata.deletionTimestamp = timestamp();
  terminating.metadata.deletionGracePeriodSeconds = 0;
  terminating.status = { phase: 'Terminating' };
  const updated = store.update('namespaces', terminating);
  setImmediate(() => {
    const storages = new Set(RESOURCES.filter((r) => r.namespaced).map((r) => r.storage));
    for (const storage of storages) {
      for (const obj of store.list(storage, name)) store.remove(storage, name, obj.metadata.name!);
    }
    store.remove('namespaces', undefined, name);
  });
  return updated;
}
