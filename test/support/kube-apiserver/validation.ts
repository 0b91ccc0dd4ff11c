// Input validation producing 422 Invalid with field causes, for the rules burstlet can hit.
// Messages follow k8s.io/apimachinery/pkg/util/validation.
import { badRequest, invalid, type StatusCause } from './status.ts';
import { isObject, type KubeObject } from './objects.ts';
import type { ResourceDef } from './resources.ts';
import { podStatusCauses } from './pod-status.ts';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const QUALIFIED_NAME = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

const SUBDOMAIN_MSG = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MSG = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

const required = (field: string, detail = ''): StatusCause => ({ reason: 'FieldValueRequired', message: detail ? `Required value: ${detail}` : 'Required value', field });
const badValue = (field: string, value: unknown, detail: string): StatusCause => ({ reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(value)}: ${detail}`, field });

function checkName(def: ResourceDef, obj: KubeObject, causes: StatusCause[]): void {
  const name = obj.metadata.name;
  if (!name) {
    causes.push(required('metadata.name', 'name or generateName is required'));
    return;
  }
  const label = def.resource === 'namespaces';
  const ok = label ? DNS1123_LABEL.test(name) && name.length <= 63 : DNS1123_SUBDOMAIN.test(name) && name.length <= 253;
  if (!ok) causes.push(badValue('metadata.name', name, label ? LABEL_MSG : SUBDOMAIN_MSG));
}

function checkLabels(obj: KubeObject, causes: StatusCause[]): void {
  for (const [key, value] of Object.entries(obj.metadata.labels ?? {})) {
    if (!QUALIFIED_NAME.test(key)) causes.push(badValue('metadata.labels', key, "name part must consist of alphanumeric characters, '-', '_' or '.'"));
    if (typeof value !== 'string' || value.length > 63 || !LABEL_VALUE.test(value)) {
      causes.push(badValue('metadata.labels', value, "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"));
    }
  }
}

function checkContainers(list: unknown, path: string, causes: StatusCause[], requiredList: boolean): void {
  if (!Array.isArray(list) || list.length === 0) {
    if (requiredList) causes.push(required(path));
    return;
  }
  const seen = new Set<string>();
  list.forEach((c, i) => {
    const at = `${path}[${i}]`;
    if (!isObject(c)) return void causes.push(required(at));
    const name = c.name;
    if (typeof name !== 'string' || !name) causes.push(required(`${at}.name`));
    else if (!DNS1123_LABEL.test(name)) causes.push(badValue(`${at}.name`, name, LABEL_MSG));
    else if (seen.has(name)) causes.push({ reason: 'FieldValueDuplicate', message: `Duplicate value: ${JSON.stringify(name)}`, field: `${at}.name` });
    if (typeof name === 'string') seen.add(name);
    if (typeof c.image !== 'string' || !c.image) causes.push(required(`${at}.image`));
  });
}

function checkPod(obj: KubeObject, causes: StatusCause[]): void {
  const spec = isObject(obj.spec) ? obj.spec : {};
  checkContainers(spec.containers, 'spec.containers', causes, true);
  checkContainers(spec.initContainers, 'spec.initContainers', causes, false);
  const policy = spec.restartPolicy;
  if (policy !== undefined && !['Always', 'OnFailure', 'Never'].includes(policy as string)) {
    causes.push({ reason: 'FieldValueNotSupported', message: `Unsupported value: ${JSON.stringify(policy)}: supported values: "Always", "OnFailure", "Never"`, field: 'spec.restartPolicy' });
  }
  const grace = spec.terminationGracePeriodSeconds;
  if (grace !== undefined && (typeof grace !== 'number' || !Number.isInteger(grace))) causes.push(badValue('spec.terminationGracePeriodSeconds', grace, 'must be an integer'));
}

function checkLease(obj: KubeObject, causes: StatusCause[]): void {
  const spec = isObject(obj.spec) ? obj.spec : {};
  const d = spec.leaseDurationSeconds;
  if (d !== undefined && d !== null && (typeof d !== 'number' || d <= 0)) causes.push(badValue('spec.leaseDurationSeconds', d, 'must be greater than 0'));
}

/** events.k8s.io/v1 requires the new-style fields; core/v1 keeps the legacy rules. */
function checkEvent(def: ResourceDef, obj: KubeObject, causes: StatusCause[]): void {
  const involved = isObject(obj.involvedObject) ? obj.involvedObject : {};
  if (involved.namespace && involved.namespace !== obj.metadata.namespace) {
    causes.push(badValue('involvedObject.namespace', involved.namespace, 'does not match event.namespace'));
  }
  if (def.group !== 'events.k8s.io') return;
  if (!obj.eventTime) causes.push(required('eventTime'));
  if (obj.type !== 'Normal' && obj.type !== 'Warning') causes.push(badValue('type', '', `has invalid value: ${String(obj.type ?? '')}`));
  if (!obj.reportingComponent) causes.push(required('reportingController'));
  if (!obj.reportingInstance) causes.push(required('reportingInstance'));
  if (!obj.action) causes.push(required('action'));
  if (!obj.reason) causes.push(required('reason'));
}

/** Throws 422 Invalid listing every problem found in an object about to be stored (`old` on updates). */
export function validate(def: ResourceDef, obj: KubeObject, old?: KubeObject): void {
  const causes: StatusCause[] = [];
  checkName(def, obj, causes);
  checkLabels(obj, causes);
  if (def.kind === 'Pod') {
    checkPod(obj, causes);
    causes.push(...podStatusCauses(obj, old));
  }
  if (def.kind === 'Lease') checkLease(obj, causes);
  if (def.kind === 'Event') checkEvent(def, obj, causes);
  if (causes.length > 0) throw invalid(def.group, def.kind, obj.metadata.name ?? '', causes);
}

/** Throws 422 Invalid for the one field an update may never change. */
export function invalidUpdate(def: ResourceDef, name: string, field: string, message: string, reason = 'FieldValueForbidden'): never {
  throw invalid(def.group, def.kind, name, [{ reason, message, field }]);
}

// metav1.MicroTime decodes with exactly this layout; a JavaScript Date's 3-digit ISO string fails.
const RFC3339_MICRO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}(Z|[+-]\d\d:\d\d)$/;
const MICRO_FIELDS: Record<string, string[]> = {
  Lease: ['spec.acquireTime', 'spec.renewTime'],
  Event: ['eventTime', 'series.lastObservedTime'],
};

/** Decoding errors the apiserver answers with 400 before validation: MicroTime fields in the wrong layout. */
export function checkDecoding(def: ResourceDef, obj: KubeObject): void {
  for (const path of MICRO_FIELDS[def.kind] ?? []) {
    const value = path.split('.').reduce<unknown>((o, k) => (isObject(o) ? o[k] : undefined), obj);
    if (value === undefined || value === null || (typeof value === 'string' && RFC3339_MICRO.test(value))) continue;
    const text = String(value);
    const frac = /(\.\d*)?(Z|[+-]\d\d:\d\d)?$/.exec(text.slice(19))?.[0] ?? text.slice(19);
    throw badRequest(`${def.kind} in version "${def.version}" cannot be handled as a ${def.kind}: parsing time "${text}" as "2006-01-02T15:04:05.000000Z07:00": cannot parse "${frac}" as ".000000"`);
  }
}
