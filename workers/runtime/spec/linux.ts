/**
 * Namespaces, hostname, mounts, cgroup path and annotations. A pod's containers join the
 * sandbox's network/IPC/UTS namespaces by path; `hostNetwork`/`hostIPC`/`hostPID` drop the
 * namespace so the host's is used.
 */
import type { OciMount, OciNamespace, SpecOption } from './oci.ts';

/** Per namespace: a path to join, `host` (the worker's own) or `new` (a fresh one). */
export interface SandboxNamespaces {
  network: string;
  ipc: string;
  uts: string;
  pid?: 'host';
}

export function withNamespaces(ns: SandboxNamespaces): SpecOption {
  return (spec) => {
    const out: OciNamespace[] = [{ type: 'mount' }];
    if (ns.pid !== 'host') out.push({ type: 'pid' });
    for (const type of ['network', 'ipc', 'uts'] as const) {
      if (ns[type] === 'new') out.push({ type });
      else if (ns[type] !== 'host') out.push({ type, path: ns[type] });
    }
    spec.linux.namespaces = out;
  };
}

/** A DNS-1123 label of at most 63 characters, as the kubelet truncates pod hostnames. */
export function podHostname(podName: string, hostname?: string): string {
  return (hostname || podName).slice(0, 63).replace(/[-.]+$/, '');
}

/** Hostname for a container that owns its UTS namespace (the sandbox); joiners inherit it. */
export function withHostname(hostname: string | undefined): SpecOption {
  return (spec) => {
    if (hostname) spec.hostname = hostname;
    else delete spec.hostname;
  };
}

/** Appends mounts; a later mount at the same destination replaces an earlier one. */
export function withMounts(mounts: readonly OciMount[]): SpecOption {
  return (spec) => {
    for (const m of mounts) {
      spec.mounts = spec.mounts.filter((x) => x.destination !== m.destination);
      spec.mounts.push({ ...m, options: [...(m.options ?? [])] });
    }
  };
}

/** A bind mount as plain data (rbind, private, optional read-only). */
export function bindMount(source: string, destination: string, readOnly = false): OciMount {
  return { destination, type: 'bind', source, options: ['rbind', 'rprivate', readOnly ? 'ro' : 'rw'] };
}

export function withCgroupsPath(path: string): SpecOption {
  return (spec) => {
    spec.linux.cgroupsPath = path;
  };
}

export function withRootPath(path: string): SpecOption {
  return (spec) => {
    spec.root.path = path;
  };
}

export function withAnnotations(annotations: Record<string, string>): SpecOption {
  return (spec) => {
    spec.annotations = { ...(spec.annotations ?? {}), ...annotations };
  };
}
