// The resource table: which resources the test server serves and how each behaves
// (scope, subresources, deletion, update semantics, selectable fields).
import type { KubeObject } from './objects.ts';

/** How one resource behaves; mirrors the per-resource strategies of kube-apiserver's registry. */
export interface ResourceDef {
  group: string;
  version: string;
  /** Plural name, the URL segment ("pods"). */
  resource: string;
  kind: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  verbs: string[];
  /** Subresources served under /{name}/{sub}, for discovery and routing. */
  subresources: string[];
  /** Main resource ignores .status and /status ignores everything but .status (pods, nodes, namespaces). */
  statusSplit: boolean;
  /** DELETE may leave the object with deletionTimestamp (pods only). */
  graceful: boolean;
  /** PUT on a missing object creates it (events, leases), like AllowCreateOnUpdate. */
  createOnUpdate: boolean;
  /** DELETE answers with the object rather than a success Status. */
  returnDeleted: boolean;
  /** metadata.generation is maintained and bumped on spec changes. */
  generation: boolean;
  /** Where objects are stored: events.k8s.io/v1 events share the core/v1 store. */
  storage: string;
  /** Field-selectable values of an object, beyond metadata.name/namespace. */
  fields?: (obj: KubeObject) => Record<string, string>;
}

function def(partial: Partial<ResourceDef> & Pick<ResourceDef, 'resource' | 'kind'>): ResourceDef {
  const d: ResourceDef = {
    group: '', version: 'v1', singular: partial.kind.toLowerCase(), namespaced: true, shortNames: [],
    verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
    subresources: [], statusSplit: false, graceful: false, createOnUpdate: false, returnDeleted: false,
    generation: false, storage: '', ...partial,
  };
  if (!d.storage) d.storage = d.group ? `${d.resource}.${d.group}` : d.resource;
  return d;
}

const str = (v: unknown): string => (v === undefined || v === null ? '' : String(v));
const at = (obj: KubeObject, path: string): unknown =>
  path.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), obj);

function podFields(obj: KubeObject): Record<string, string> {
  return {
    'spec.nodeName': str(at(obj, 'spec.nodeName')),
    'spec.restartPolicy': str(at(obj, 'spec.restartPolicy')),
    'spec.schedulerName': str(at(obj, 'spec.schedulerName')),
    'spec.serviceAccountName': str(at(obj, 'spec.serviceAccountName')),
    'spec.hostNetwork': str(at(obj, 'spec.hostNetwork') ?? false),
    'status.phase': str(at(obj, 'status.phase')),
    'status.podIP': str(at(obj, 'status.podIP')),
    'status.nominatedNodeName': str(at(obj, 'status.nominatedNodeName')),
  };
}

const EVENT_FIELDS = ['kind', 'namespace', 'name', 'uid', 'apiVersion', 'resourceVersion', 'fieldPath'];

/** Events are stored in core/v1 form, so both API groups select on involvedObject.*. */
function eventFields(obj: KubeObject): Record<string, string> {
  const out: Record<string, string> = {
    reason: str(at(obj, 'reason')), type: str(at(obj, 'type')),
    reportingComponent: str(at(obj, 'reportingComponent')), source: str(at(obj, 'source.component')),
  };
  for (const f of EVENT_FIELDS) out[`involvedObject.${f}`] = str(at(obj, `involvedObject.${f}`));
  for (const f of EVENT_FIELDS) out[`regarding.${f}`] = out[`involvedObject.${f}`];
  out.reportingController = out.reportingComponent;
  return out;
}

export const RESOURCES: readonly ResourceDef[] = [
  def({ resource: 'namespaces', kind: 'Namespace', namespaced: false, shortNames: ['ns'], subresources: ['status', 'finalize'],
    statusSplit: true, returnDeleted: true, fields: (o) => ({ 'status.phase': str(at(o, 'status.phase')) }) }),
  def({ resource: 'nodes', kind: 'Node', namespaced: false, shortNames: ['no'], subresources: ['status', 'proxy'], statusSplit: true,
    fields: (o) => ({ 'spec.unschedulable': str(at(o, 'spec.unschedulable') ?? false) }) }),
  def({ resource: 'pods', kind: 'Pod', shortNames: ['po'], subresources: ['status', 'binding', 'eviction', 'log', 'exec', 'attach', 'portforward'],
    statusSplit: true, graceful: true, returnDeleted: true, generation: true, fields: podFields }),
  def({ resource: 'configmaps', kind: 'ConfigMap', shortNames: ['cm'] }),
  def({ resource: 'secrets', kind: 'Secret', fields: (o) => ({ type: str(at(o, 'type')) }) }),
  def({ resource: 'serviceaccounts', kind: 'ServiceAccount', shortNames: ['sa'], subresources: ['token'], returnDeleted: true }),
  def({ resource: 'events', kind: 'Event', shortNames: ['ev'], createOnUpdate: true, fields: eventFields }),
  def({ group: 'events.k8s.io', resource: 'events', kind: 'Event', shortNames: ['ev'], createOnUpdate: true,
    storage: 'events', fields: eventFields }),
  def({ group: 'coordination.k8s.io', resource: 'leases', kind: 'Lease', createOnUpdate: true }),
  def({ group: 'node.k8s.io', resource: 'runtimeclasses', kind: 'RuntimeClass', namespaced: false }),
  def({ group: 'authentication.k8s.io', resource: 'tokenreviews', kind: 'TokenReview', namespaced: false, verbs: ['create'] }),
  def({ group: 'authorization.k8s.io', resource: 'subjectaccessreviews', kind: 'SubjectAccessReview', namespaced: false, verbs: ['create'] }),
];

/** The resource served at group/version/resource, if any. */
export function findResource(group: string, version: string, resource: string): ResourceDef | undefined {
  return RESOURCES.find((r) => r.group === group && r.version === version && r.resource === resource);
}

/** apiVersion string of a resource: "v1" or "group/version". */
export function apiVersionOf(r: ResourceDef): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

/** All field-selectable values of an object of this resource (metadata ones included). */
export function selectableFields(r: ResourceDef, obj: KubeObject): Record<string, string> {
  const base: Record<string, string> = { 'metadata.name': obj.metadata.name ?? '' };
  if (r.namespaced) base['metadata.namespace'] = obj.metadata.namespace ?? '';
  return { ...base, ...(r.fields ? r.fields(obj) : {}) };
}
