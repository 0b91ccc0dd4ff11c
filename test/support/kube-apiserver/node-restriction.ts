// The NodeRestriction admission plugin: a node may only write its own Node (and not its
// restricted labels or taints after registration), status of pods bound to it, its own
// Lease, and tokens bound to its pods.
import type { Attributes } from './auth.ts';
import { nodeNameOf } from './node-authorizer.ts';
import { isObject, jsonEqual, type KubeObject } from './objects.ts';
import { forbidden } from './status.ts';
import type { Store } from './store.ts';

/** Called with the object about to be stored and the current one (undefined on create). */
export type AdmitFn = (obj: KubeObject, old: KubeObject | undefined) => void;

// Labels a kubelet may set on its Node (kubeletapis + the kubelet.kubernetes.io/ and node.kubernetes.io/ prefixes).
const ALLOWED_LABELS = new Set([
  'kubernetes.io/hostname', 'kubernetes.io/os', 'kubernetes.io/arch', 'beta.kubernetes.io/os', 'beta.kubernetes.io/arch',
  'topology.kubernetes.io/zone', 'topology.kubernetes.io/region', 'failure-domain.beta.kubernetes.io/zone',
  'failure-domain.beta.kubernetes.io/region', 'node.kubernetes.io/instance-type', 'beta.kubernetes.io/instance-type',
  'node.kubernetes.io/windows-build',
]);

function forbiddenLabel(key: string): boolean {
  const slash = key.indexOf('/');
  if (slash < 0) return false;
  const domain = key.slice(0, slash);
  if (domain === 'node-restriction.kubernetes.io' || domain.endsWith('.node-restriction.kubernetes.io')) return true;
  if (ALLOWED_LABELS.has(key) || domain === 'kubelet.kubernetes.io' || domain === 'node.kubernetes.io') return false;
  const k8s = (d: string) => domain === d || domain.endsWith(`.${d}`);
  return k8s('kubernetes.io') || k8s('k8s.io');
}

function modifiedLabels(now: Record<string, string> = {}, before: Record<string, string> = {}): string[] {
  const keys = new Set([...Object.keys(now), ...Object.keys(before)]);
  return [...keys].filter((k) => now[k] !== before[k]).sort();
}

const podNode = (pod: KubeObject | undefined) => (pod && isObject(pod.spec) ? pod.spec.nodeName : undefined);

/** The admission check for a write by a node identity, or undefined when NodeRestriction does not apply. */
export function nodeRestriction(store: Store, attrs: Attributes): AdmitFn | undefined {
  const node = nodeNameOf(attrs.user);
  if (node === undefined || !['create', 'update', 'patch', 'delete'].includes(attrs.verb)) return undefined;
  const gr = { group: attrs.group, resource: attrs.resource };
  const deny = (name: string, why: string) => forbidden(gr, name, why);
  const key = `${attrs.group}/${attrs.resource}/${attrs.subresource}`;
  return (obj, old) => {
    const name = obj.metadata.name ?? attrs.name;
    switch (key) {
      case '/nodes/':
      case '/nodes/status': {
        if (name !== node) throw deny(name, `node "${node}" is not allowed to modify node "${name}"`);
        const bad = modifiedLabels(obj.metadata.labels, old?.metadata.labels).filter(forbiddenLabel);
        if (bad.length > 0) throw deny(name, old ? `is not allowed to modify labels: ${bad.join(', ')}` : `node "${node}" is not allowed to set the following labels: ${bad.join(', ')}`);
        const taints = (o: KubeObject | undefined) => (o && isObject(o.spec) ? o.spec.taints ?? [] : []);
        if (old && !jsonEqual(taints(obj), taints(old))) throw deny(name, `node "${node}" is not allowed to modify taints`);
        return;
      }
      case '/pods/status':
        if (podNode(old ?? obj) !== node) throw deny(name, `node "${node}" can only update pod status for pods with spec.nodeName set to itself`);
        return;
      case '/pods/':
        if (attrs.verb === 'delete' && podNode(old ?? obj) !== node) throw deny(name, `node "${node}" can only delete pods with spec.nodeName set to itself`);
        if (attrs.verb === 'create' && !obj.metadata.annotations?.['kubernetes.io/config.mirror']) {
          throw deny(name, `pod does not have "kubernetes.io/config.mirror" annotation, node "${node}" can only create mirror pods`);
        }
        if (attrs.verb === 'create' && podNode(obj) !== node) throw deny(name, `node "${node}" can only create pods with spec.nodeName set to itself`);
        return;
      case '/pods/eviction':
        if (podNode(store.get('pods', attrs.namespace, attrs.name)) !== node) throw deny(attrs.name, `node "${node}" can only evict pods with spec.nodeName set to itself`);
        return;
      case '/serviceaccounts/token':
        return checkTokenBinding(store, node, attrs, obj, deny);
      case 'coordination.k8s.io/leases/':
        if (name !== node) throw deny(name, 'can only access node lease with the same name as the requesting node');
        return;
    }
  };
}

function checkTokenBinding(store: Store, node: string, attrs: Attributes, request: KubeObject, deny: (n: string, w: string) => Error): void {
  const spec = isObject(request.spec) ? request.spec : {};
  const ref = isObject(spec.boundObjectRef) ? spec.boundObjectRef : undefined;
  if (!ref || ref.kind !== 'Pod') throw deny(attrs.name, 'node requested token not bound to a pod');
  const pod = store.get('pods', attrs.namespace, String(ref.name ?? ''));
  if (!pod || (ref.uid && pod.metadata.uid !== ref.uid)) throw deny(attrs.name, 'node requested token with a pod binding without a uid');
  if (podNode(pod) !== node) throw deny(attrs.name, 'node requested token bound to a pod scheduled on a different node');
}
