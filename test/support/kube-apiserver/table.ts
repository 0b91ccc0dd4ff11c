// Server-side printing (meta.k8s.io/v1 Table) for `kubectl get`: the pod and node columns of
// the apiserver's printers, Name/Age for everything else.
import { isObject, type KubeObject } from './objects.ts';
import type { ResourceDef } from './resources.ts';

interface Column {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

const col = (name: string, priority = 0, type = 'string', format = ''): Column => ({ name, type, format, description: name, priority });

/** True when the Accept header asks for a Table (kubectl get does). */
export function wantsTable(accept: string | undefined): boolean {
  return !!accept && /as=Table/.test(accept) && /g=meta\.k8s\.io/.test(accept);
}

/** k8s.io/apimachinery/pkg/util/duration.HumanDuration. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  const days = Math.floor(hours / 24);
  if (hours < 24 * 365 * 8) return days % 365 === 0 ? `${Math.floor(days / 365)}y` : `${Math.floor(days / 365)}y${days % 365}d`;
  return `${Math.floor(days / 365)}y`;
}

const age = (obj: KubeObject) => (obj.metadata.creationTimestamp ? humanDuration(Date.now() - Date.parse(obj.metadata.creationTimestamp)) : '<unknown>');
const rec = (v: unknown): Record<string, any> => (isObject(v) ? v : {});
const list = (v: unknown): Record<string, any>[] => (Array.isArray(v) ? v.filter(isObject) : []);

/** The STATUS column of `kubectl get pods` (printPod, without init-container detail). */
function podStatus(pod: KubeObject): { ready: string; status: string; restarts: number } {
  const status = rec(pod.status);
  let reason: string = status.reason || status.phase || '';
  let ready = 0;
  let restarts = 0;
  const statuses = list(status.containerStatuses);
  for (const cs of [...statuses].reverse()) {
    restarts += Number(cs.restartCount ?? 0);
    const state = rec(cs.state);
    if (state.waiting?.reason) reason = state.waiting.reason;
    else if (state.terminated?.reason) reason = state.terminated.reason;
    else if (state.terminated) reason = state.terminated.signal ? `Signal:${state.terminated.signal}` : `ExitCode:${state.terminated.exitCode}`;
    else if (state.running && cs.ready) ready++;
  }
  if (pod.metadata.deletionTimestamp) reason = status.reason === 'NodeLost' ? 'Unknown' : 'Terminating';
  const total = list(rec(pod.spec).containers).length;
  return { ready: `${ready}/${total}`, status: reason, restarts };
}

function podRow(pod: KubeObject): unknown[] {
  const { ready, status, restarts } = podStatus(pod);
  const s = rec(pod.status);
  const gates = list(rec(pod.spec).readinessGates);
  return [pod.metadata.name, ready, status, restarts, age(pod), s.podIP || '<none>', rec(pod.spec).nodeName || '<none>',
    s.nominatedNodeName || '<none>', gates.length ? `${gates.length}` : '<none>'];
}

function nodeRow(node: KubeObject): unknown[] {
  const status = rec(node.status);
  const ready = list(status.conditions).find((c) => c.type === 'Ready');
  let state = ready ? (ready.status === 'True' ? 'Ready' : ready.status === 'False' ? 'NotReady' : 'Unknown') : 'Unknown';
  if (rec(node.spec).unschedulable) state += ',SchedulingDisabled';
  const labels = node.metadata.labels ?? {};
  const roles = Object.keys(labels).filter((k) => k.startsWith('node-role.kubernetes.io/')).map((k) => k.slice('node-role.kubernetes.io/'.length));
  if (labels['kubernetes.io/role']) roles.push(labels['kubernetes.io/role']);
  const addr = (type: string) => list(status.addresses).find((a) => a.type === type)?.address ?? '<none>';
  const info = rec(status.nodeInfo);
  return [node.metadata.name, state, roles.length ? roles.sort().join(',') : '<none>', age(node), info.kubeletVersion ?? '',
    addr('InternalIP'), addr('ExternalIP'), info.osImage || '<unknown>', info.kernelVersion || '<unknown>', info.containerRuntimeVersion || '<unknown>'];
}

const PRINTERS: Record<string, { columns: Column[]; row: (o: KubeObject) => unknown[] }> = {
  Pod: {
    columns: [col('Name', 0, 'string', 'name'), col('Ready'), col('Status'), col('Restarts', 0, 'integer'), col('Age'),
      col('IP', 1), col('Node', 1), col('Nominated Node', 1), col('Readiness Gates', 1)],
    row: podRow,
  },
  Node: {
    columns: [col('Name', 0, 'string', 'name'), col('Status'), col('Roles'), col('Age'), col('Version'), col('Internal-IP', 1),
      col('External-IP', 1), col('OS-Image', 1), col('Kernel-Version', 1), col('Container-Runtime', 1)],
    row: nodeRow,
  },
};

const DEFAULT_PRINTER = { columns: [col('Name', 0, 'string', 'name'), col('Age')], row: (o: KubeObject) => [o.metadata.name, age(o)] };

/** A Table of `items` (wire form); rows carry PartialObjectMetadata like includeObject=Metadata. */
export function toTable(def: ResourceDef, items: KubeObject[], listMeta: Record<string, unknown>): Record<string, unknown> {
  const printer = PRINTERS[def.kind] ?? DEFAULT_PRINTER;
  return {
    kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: listMeta, columnDefinitions: printer.columns,
    rows: items.map((o) => ({ cells: printer.row(o), object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata } })),
  };
}
