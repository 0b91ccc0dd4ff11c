// Discovery documents: /version, /api, /apis, /api/v1 and /apis/{group}[/{version}].
import { apiVersionOf, RESOURCES, type ResourceDef } from './resources.ts';

/** The Kubernetes version this server claims to be (its behaviour targets this release). */
export const SERVER_VERSION = { major: '1', minor: '34', gitVersion: 'v1.34.0' };

export function versionInfo(): Record<string, string> {
  return {
    ...SERVER_VERSION, gitCommit: '0000000000000000000000000000000000000000', gitTreeState: 'clean',
    buildDate: '2025-08-27T00:00:00Z', goVersion: 'go1.24.6', compiler: 'gc', platform: 'linux/amd64',
  };
}

const SUBRESOURCES: Record<string, { kind: string; verbs: string[]; group?: string; version?: string }> = {
  status: { kind: '', verbs: ['get', 'patch', 'update'] },
  binding: { kind: 'Binding', verbs: ['create'] },
  eviction: { kind: 'Eviction', verbs: ['create'], group: 'policy', version: 'v1' },
  log: { kind: 'Pod', verbs: ['get'] },
  exec: { kind: 'PodExecOptions', verbs: ['create', 'get'] },
  attach: { kind: 'PodAttachOptions', verbs: ['create', 'get'] },
  portforward: { kind: 'PodPortForwardOptions', verbs: ['create', 'get'] },
  token: { kind: 'TokenRequest', verbs: ['create'], group: 'authentication.k8s.io', version: 'v1' },
  proxy: { kind: 'NodeProxyOptions', verbs: ['create', 'delete', 'get', 'patch', 'update'] },
  finalize: { kind: 'Namespace', verbs: ['update'] },
};

function resourceEntries(r: ResourceDef): Record<string, unknown>[] {
  const main: Record<string, unknown> = { name: r.resource, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs: r.verbs };
  if (r.shortNames.length > 0) main.shortNames = r.shortNames;
  const subs = r.subresources.map((s) => {
    const info = SUBRESOURCES[s];
    const entry: Record<string, unknown> = { name: `${r.resource}/${s}`, singularName: '', namespaced: r.namespaced, kind: info.kind || r.kind, verbs: info.verbs };
    if (info.group) Object.assign(entry, { group: info.group, version: info.version });
    return entry;
  });
  return [main, ...subs];
}

/** APIResourceList for one group/version, or undefined if not served. */
export function resourceList(group: string, version: string): Record<string, unknown> | undefined {
  const defs = RESOURCES.filter((r) => r.group === group && r.version === version);
  if (defs.length === 0) return undefined;
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf(defs[0]), resources: defs.flatMap(resourceEntries) };
}

export function coreVersions(serverAddress: string): Record<string, unknown> {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

function groupEntry(name: string): Record<string, unknown> {
  const versions = [...new Set(RESOURCES.filter((r) => r.group === name).map((r) => r.version))];
  const list = versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
  return { name, versions: list, preferredVersion: list[0] };
}

export function groupList(): Record<string, unknown> {
  const names = [...new Set(RESOURCES.map((r) => r.group).filter(Boolean))];
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: names.map(groupEntry) };
}

/** APIGroup for /apis/{group}, or undefined if not served. */
export function apiGroup(name: string): Record<string, unknown> | undefined {
  if (!RESOURCES.some((r) => r.group === name)) return undefined;
  return { kind: 'APIGroup', apiVersion: 'v1', ...groupEntry(name) };
}
