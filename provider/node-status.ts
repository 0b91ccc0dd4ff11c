/**
 * The virtual Node, pure: labels, taint and the status a kubelet would report, computed from
 * the live worker pool. Capacity is the pool's allocatable sum plus the configured burst
 * headroom; Ready is True iff at least one worker is live.
 */
import { release } from 'node:os';
import { formatBytes, formatCpu } from '../src/quantity.ts';
import type { WorkerInfo } from '../src/schema/worker.ts';
import type { KubeObject } from './kube-client.ts';

export interface NodeSettings {
  readonly nodeName: string;
  /** "KEY=VALUE:EFFECT" (the CLI's format). */
  readonly taint: string;
  readonly burst: { readonly cpuMillis: number; readonly memoryBytes: number; readonly pods: number };
  readonly version: string;
  /** Address other components reach the kubelet API on, and its port. */
  readonly address: string;
  readonly port: number;
}

export const KUBERNETES_VERSION = 'v1.31.0';

const ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x' };
export const hostArch = (): string => ARCH[process.arch] ?? process.arch;

export function parseTaint(spec: string): { key: string; value?: string; effect: string } {
  const [kv, effect] = [spec.slice(0, spec.lastIndexOf(':')), spec.slice(spec.lastIndexOf(':') + 1)];
  const eq = kv.indexOf('=');
  return eq < 0 ? { key: kv, effect } : { key: kv.slice(0, eq), value: kv.slice(eq + 1), effect };
}

export function nodeLabels(s: NodeSettings): Record<string, string> {
  return {
    type: 'virtual-kubelet',
    'kubernetes.io/os': 'linux',
    'kubernetes.io/arch': hostArch(),
    'kubernetes.io/hostname': s.nodeName,
    'kubernetes.io/role': 'agent',
    'node.kubernetes.io/exclude-from-external-load-balancers': 'true',
  };
}

/** The Node to create on first registration. */
export function nodeObject(s: NodeSettings, workers: readonly WorkerInfo[], now: Date): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: s.nodeName, labels: nodeLabels(s) },
    spec: { taints: [parseTaint(s.taint)] },
    status: nodeStatus(s, workers, [], now),
  };
}

/** Capacity as Kubernetes quantities: live workers' allocatable sum + burst. */
export function capacityOf(s: NodeSettings, workers: readonly WorkerInfo[]): Record<string, string> {
  const sum = { cpu: s.burst.cpuMillis, memory: s.burst.memoryBytes, pods: s.burst.pods, storage: 0 };
  for (const w of workers) {
    sum.cpu += w.allocatable.cpuMillis;
    sum.memory += w.allocatable.memoryBytes;
    sum.pods += w.allocatable.pods;
    sum.storage += w.allocatable.ephemeralStorageBytes;
  }
  return { cpu: formatCpu(sum.cpu), memory: formatBytes(sum.memory), pods: String(sum.pods), 'ephemeral-storage': formatBytes(sum.storage) };
}

/** The node status; `previous` conditions keep their lastTransitionTime while unchanged. */
export function nodeStatus(s: NodeSettings, workers: readonly WorkerInfo[], previous: readonly KubeObject[], now: Date): KubeObject {
  const capacity = capacityOf(s, workers);
  return {
    capacity,
    allocatable: capacity,
    conditions: nodeConditions(workers, previous, now),
    nodeInfo: {
      kubeletVersion: `${KUBERNETES_VERSION}-burstlet-${s.version}`,
      kubeProxyVersion: '',
      containerRuntimeVersion: `burstlet://${s.version}`,
      operatingSystem: 'linux',
      architecture: hostArch(),
      osImage: 'burstlet worker pool',
      kernelVersion: release(),
      machineID: '',
      systemUUID: '',
      bootID: '',
    },
    addresses: [{ type: 'InternalIP', address: s.address }, { type: 'Hostname', address: s.nodeName }],
    daemonEndpoints: { kubeletEndpoint: { Port: s.port } },
  };
}

// A pressure condition holds when every live worker reports it: the pool can still place
// pods while one worker has room.
const PRESSURES = [
  { type: 'MemoryPressure', key: 'memory', ok: 'KubeletHasSufficientMemory', bad: 'KubeletHasInsufficientMemory', what: 'memory' },
  { type: 'DiskPressure', key: 'disk', ok: 'KubeletHasNoDiskPressure', bad: 'KubeletHasDiskPressure', what: 'disk' },
  { type: 'PIDPressure', key: 'pid', ok: 'KubeletHasSufficientPID', bad: 'KubeletHasInsufficientPID', what: 'PIDs' },
] as const;

const underPressure = (v: string | undefined): boolean => v !== undefined && v !== '' && !/^(false|no|none|ok)$/i.test(v);

export function nodeConditions(workers: readonly WorkerInfo[], previous: readonly KubeObject[], now: Date): KubeObject[] {
  const time = now.toISOString().replace(/\.\d+Z$/, 'Z');
  const live = workers.length;
  const conds: { type: string; status: string; reason: string; message: string }[] = PRESSURES.map((p) => {
    const bad = live > 0 && workers.every((w) => underPressure(w.pressure?.[p.key]));
    return { type: p.type, status: bad ? 'True' : 'False', reason: bad ? p.bad : p.ok, message: bad ? `every live worker reports ${p.what} pressure` : `the pool has sufficient ${p.what}` };
  });
  conds.push(live > 0
    ? { type: 'Ready', status: 'True', reason: 'KubeletReady', message: `${live} live worker${live === 1 ? '' : 's'}` }
    : { type: 'Ready', status: 'False', reason: 'NoLiveWorkers', message: 'no worker host has sent a heartbeat recently' });
  return conds.map((c) => {
    const old = previous.find((o) => o.type === c.type);
    return { ...c, lastHeartbeatTime: time, lastTransitionTime: old && old.status === c.status ? old.lastTransitionTime : time };
  });
}

/** What decides whether a status must be re-sent now: everything but the timestamps. */
export function statusFingerprint(status: KubeObject): string {
  const conds = (status.conditions ?? []).map((c: KubeObject) => [c.type, c.status, c.reason, c.message]);
  return JSON.stringify([status.capacity, conds, status.addresses, status.daemonEndpoints, status.nodeInfo]);
}
