// The Node authorizer for `system:node:<name>` users in group system:nodes: the static node
// rules plus the graph checks (secrets/configmaps/serviceaccount tokens only through pods bound
// to the node; leases only the node's own in kube-node-lease; selector-scoped pod and node reads).
import type { Attributes, Decision, UserInfo } from './auth.ts';
import { isObject, type KubeObject } from './objects.ts';
import { fieldEquals } from './selectors.ts';
import type { Store } from './store.ts';

/** The node name of a node identity, or undefined for any other user. */
export function nodeNameOf(user: UserInfo): string | undefined {
  if (!user.groups.includes('system:nodes') || !user.user.startsWith('system:node:')) return undefined;
  return user.user.slice('system:node:'.length);
}

const allow: Decision = { allowed: true, reason: '' };
const deny = (reason = ''): Decision => ({ allowed: false, reason });

type Rule = { group: string; resources: string[]; verbs: string[] };

// The static rules of NodeRules() (plugin/pkg/auth/authorizer/rbac/bootstrappolicy) for what this server serves.
const NODE_RULES: Rule[] = [
  { group: 'authentication.k8s.io', resources: ['tokenreviews'], verbs: ['create'] },
  { group: 'authorization.k8s.io', resources: ['subjectaccessreviews', 'localsubjectaccessreviews'], verbs: ['create'] },
  { group: '', resources: ['nodes'], verbs: ['create', 'get', 'list', 'watch', 'update', 'patch'] },
  { group: '', resources: ['nodes/status'], verbs: ['update', 'patch'] },
  { group: '', resources: ['events'], verbs: ['create', 'update', 'patch'] },
  { group: 'events.k8s.io', resources: ['events'], verbs: ['create', 'update', 'patch'] },
  { group: '', resources: ['pods'], verbs: ['get', 'list', 'watch', 'create', 'delete'] },
  { group: '', resources: ['pods/status'], verbs: ['update', 'patch'] },
  { group: '', resources: ['pods/eviction'], verbs: ['create'] },
  { group: 'node.k8s.io', resources: ['runtimeclasses'], verbs: ['get', 'list', 'watch'] },
];

function rulesAllow(attrs: Attributes): boolean {
  const resource = attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource;
  return NODE_RULES.some((r) => r.group === attrs.group && r.resources.includes(resource) && r.verbs.includes(attrs.verb));
}

/** Decides a request of node `node`. */
export function nodeAuthorize(store: Store, node: string, attrs: Attributes): Decision {
  if (!attrs.resourceRequest) return deny();
  const key = `${attrs.group}/${attrs.resource}`;
  switch (key) {
    case '/secrets':
    case '/configmaps':
      return readReferenced(store, node, attrs);
    case '/serviceaccounts':
      if (attrs.subresource !== 'token') return rulesAllow(attrs) ? allow : deny();
      if (attrs.verb !== 'create') return deny('can only create tokens for individual service accounts');
      return referencedByNodePod(store, node, 'serviceaccounts', attrs.namespace, attrs.name) ? allow : deny(`no relationship found between node '${node}' and this object`);
    case 'coordination.k8s.io/leases':
      return authorizeLease(node, attrs);
    case '/nodes':
      return authorizeNode(node, attrs);
    case '/pods':
      if (!attrs.subresource && (attrs.verb === 'list' || attrs.verb === 'watch') && fieldEquals(attrs.fieldSelector)['spec.nodeName'] !== node) {
        return deny(`can only list/watch pods with spec.nodeName=${node} field selector`);
      }
      if (!attrs.subresource && attrs.verb === 'get') {
        const pod = store.peek('pods', attrs.namespace, attrs.name);
        if (!pod || !isObject(pod.spec) || pod.spec.nodeName !== node) return deny(`no relationship found between node '${node}' and this object`);
      }
      return rulesAllow(attrs) ? allow : deny();
    default:
      return rulesAllow(attrs) ? allow : deny();
  }
}

function authorizeLease(node: string, attrs: Attributes): Decision {
  if (!['get', 'create', 'update', 'patch', 'delete'].includes(attrs.verb)) return deny('can only get, create, update, patch, or delete a node lease');
  if (attrs.namespace !== 'kube-node-lease') return deny('can only access leases in the "kube-node-lease" system namespace');
  // The authorizer cannot see the name on create; NodeRestriction checks it then.
  if (attrs.verb !== 'create' && attrs.name !== node) return deny('can only access node lease with the same name as the requesting node');
  return allow;
}

function authorizeNode(node: string, attrs: Attributes): Decision {
  if (!attrs.subresource && ['get', 'list', 'watch'].includes(attrs.verb)) {
    if (attrs.verb === 'get' && attrs.name !== node) return deny(`node '${node}' cannot read '${attrs.name}', only its own Node object`);
    if (attrs.verb !== 'get' && fieldEquals(attrs.fieldSelector)['metadata.name'] !== node) {
      return deny(`node '${node}' can only list/watch its own Node object with metadata.name=${node} field selector`);
    }
  }
  return rulesAllow(attrs) ? allow : deny();
}

function readReferenced(store: Store, node: string, attrs: Attributes): Decision {
  if (!['get', 'list', 'watch'].includes(attrs.verb) || attrs.subresource) return deny(`can only read resources of this type`);
  const name = attrs.verb === 'get' ? attrs.name : fieldEquals(attrs.fieldSelector)['metadata.name'];
  if (!name) return deny('can only read namespaced object of this type');
  return referencedByNodePod(store, node, attrs.resource, attrs.namespace, name) ? allow : deny(`no relationship found between node '${node}' and this object`);
}

/** True when a pod bound to `node` in `namespace` references the named secret/configmap/serviceaccount. */
export function referencedByNodePod(store: Store, node: string, resource: string, namespace: string, name: string): boolean {
  for (const pod of store.scan('pods', namespace)) {
    if (isObject(pod.spec) && pod.spec.nodeName === node && podReferences(pod, resource).has(name)) return true;
  }
  return false;
}

/** Names of objects of a kind a pod spec references (volumes, env, envFrom, pull secrets, account). */
export function podReferences(pod: Readonly<KubeObject>, resource: string): Set<string> {
  const spec = isObject(pod.spec) ? pod.spec : {};
  const out = new Set<string>();
  const add = (v: unknown) => typeof v === 'string' && v && out.add(v);
  if (resource === 'serviceaccounts') {
    add(spec.serviceAccountName);
    return out;
  }
  const secret = resource === 'secrets';
  const volumes = Array.isArray(spec.volumes) ? spec.volumes.filter(isObject) : [];
  for (const v of volumes) {
    if (secret && isObject(v.secret)) add(v.secret.secretName);
    if (!secret && isObject(v.configMap)) add(v.configMap.name);
    const sources = isObject(v.projected) && Array.isArray(v.projected.sources) ? v.projected.sources.filter(isObject) : [];
    for (const s of sources) {
      const ref = secret ? s.secret : s.configMap;
      if (isObject(ref)) add(ref.name);
    }
  }
  if (secret && Array.isArray(spec.imagePullSecrets)) for (const p of spec.imagePullSecrets.filter(isObject)) add(p.name);
  const containers = ['containers', 'initContainers', 'ephemeralContainers'].flatMap((k) => (Array.isArray(spec[k]) ? (spec[k] as unknown[]).filter(isObject) : []));
  for (const c of containers) {
    for (const e of Array.isArray(c.env) ? c.env.filter(isObject) : []) {
      const from = isObject(e.valueFrom) ? e.valueFrom : {};
      const ref = secret ? from.secretKeyRef : from.configMapKeyRef;
      if (isObject(ref)) add(ref.name);
    }
    for (const e of Array.isArray(c.envFrom) ? c.envFrom.filter(isObject) : []) {
      const ref = secret ? e.secretRef : e.configMapRef;
      if (isObject(ref)) add(ref.name);
    }
  }
  return out;
}
