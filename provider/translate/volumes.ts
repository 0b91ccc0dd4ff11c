/**
 * A pod's volumes, resolved into files the worker writes: configMap, secret, downwardAPI and
 * projected (with service-account tokens from the TokenRequest API); emptyDir and hostPath
 * are passed on as they are (the worker decides whether hostPath is allowed).
 */
import { BurstletError } from '../../src/errors.ts';
import { bytes } from '../../src/quantity.ts';
import type { VolumeSpec } from '../../src/schema/pod-job.ts';
import type { KubeObject } from '../kube-client.ts';
import { fieldRefValue, resourceFieldValue } from './field-ref.ts';
import { entries, fetchSource, type SourceKind } from './lookup.ts';
import type { Sources } from './sources.ts';

type File = NonNullable<VolumeSpec['files']>[number];

const DEFAULT_MODE = 0o644;
const DEFAULT_TOKEN_SECONDS = 3600;

/** Resolves every volume of the pod; throws CONTAINER_CONFIG for a missing mandatory source. */
export async function resolveVolumes(pod: KubeObject, sources: Sources): Promise<VolumeSpec[]> {
  const out: VolumeSpec[] = [];
  for (const v of pod.spec?.volumes ?? []) out.push(await resolveVolume(pod, v, sources));
  return out;
}

async function resolveVolume(pod: KubeObject, v: KubeObject, sources: Sources): Promise<VolumeSpec> {
  const ns: string = pod.metadata.namespace;
  if (v.emptyDir) {
    const size = v.emptyDir.sizeLimit === undefined ? undefined : bytes(v.emptyDir.sizeLimit);
    return { name: v.name, type: 'emptyDir', medium: v.emptyDir.medium || undefined, sizeLimitBytes: size };
  }
  if (v.hostPath) return { name: v.name, type: 'hostPath', hostPath: v.hostPath.path, hostPathType: v.hostPath.type || undefined };
  if (v.configMap || v.secret) {
    const kind: SourceKind = v.configMap ? 'configmap' : 'secret';
    const src = v.configMap ?? v.secret;
    const files = await objectFiles(sources, kind, ns, { name: src.name ?? src.secretName, items: src.items, optional: src.optional });
    return { name: v.name, type: kind === 'configmap' ? 'configMap' : 'secret', files, defaultMode: src.defaultMode ?? DEFAULT_MODE, readOnly: true };
  }
  if (v.downwardAPI) {
    return { name: v.name, type: 'downwardAPI', files: downwardFiles(pod, v.downwardAPI.items ?? []), defaultMode: v.downwardAPI.defaultMode ?? DEFAULT_MODE, readOnly: true };
  }
  if (v.projected) {
    const files: File[] = [];
    for (const s of v.projected.sources ?? []) files.push(...(await projectedFiles(pod, s, sources)));
    return { name: v.name, type: 'projected', files, defaultMode: v.projected.defaultMode ?? DEFAULT_MODE, readOnly: true };
  }
  throw new BurstletError('POD_UNSUPPORTED', `volume "${v.name}": unsupported volume source`);
}

/** A serviceAccountToken source of a projected volume: the file the token lands in. */
export interface TokenProjection {
  readonly volume: string;
  readonly path: string;
  readonly audience: string | undefined;
  readonly expirationSeconds: number;
}

/** Every service-account token the pod's projected volumes hold (what gets refreshed). */
export function tokenProjections(pod: KubeObject): TokenProjection[] {
  const out: TokenProjection[] = [];
  for (const v of pod.spec?.volumes ?? []) {
    for (const s of v.projected?.sources ?? []) {
      const t = s.serviceAccountToken;
      if (t) out.push({ volume: v.name, path: t.path, audience: t.audience || undefined, expirationSeconds: t.expirationSeconds ?? DEFAULT_TOKEN_SECONDS });
    }
  }
  return out;
}

async function projectedFiles(pod: KubeObject, s: KubeObject, sources: Sources): Promise<File[]> {
  const ns: string = pod.metadata.namespace;
  if (s.configMap) return objectFiles(sources, 'configmap', ns, s.configMap);
  if (s.secret) return objectFiles(sources, 'secret', ns, s.secret);
  if (s.downwardAPI) return downwardFiles(pod, s.downwardAPI.items ?? []);
  if (s.serviceAccountToken) {
    const t = s.serviceAccountToken;
    const issued = await sources.serviceAccountToken(pod, t.audience || undefined, t.expirationSeconds ?? DEFAULT_TOKEN_SECONDS);
    return [{ path: t.path, contentBase64: Buffer.from(issued.token).toString('base64') }];
  }
  throw new BurstletError('POD_UNSUPPORTED', `projected source ${JSON.stringify(Object.keys(s)[0])} is not supported`);
}

/** The files of a configMap/secret volume: the listed items, or every key. */
async function objectFiles(sources: Sources, kind: SourceKind, ns: string, src: { name?: string; items?: KubeObject[]; optional?: boolean }): Promise<File[]> {
  const obj = await fetchSource(sources, kind, ns, src.name ?? '', src.optional);
  if (!obj) return [];
  const data = entries(kind, obj);
  if (!src.items?.length) return [...data].map(([k, v]) => ({ path: k, contentBase64: v.toString('base64') }));
  const files: File[] = [];
  for (const item of src.items) {
    const v = data.get(item.key);
    if (v === undefined) {
      if (src.optional) continue;
      throw new BurstletError('CONTAINER_CONFIG', `configuration key "${item.key}" not found in ${kind} ${ns}/${src.name}`, { details: { kind, name: src.name, key: item.key } });
    }
    files.push({ path: item.path, contentBase64: v.toString('base64'), mode: item.mode ?? undefined });
  }
  return files;
}

function downwardFiles(pod: KubeObject, items: KubeObject[]): File[] {
  return items.map((item) => {
    let value: string;
    if (item.fieldRef) {
      const v = fieldRefValue(pod, item.fieldRef.fieldPath);
      if (!('value' in v)) throw new BurstletError('POD_UNSUPPORTED', `downwardAPI volume: ${item.fieldRef.fieldPath} is only available as an env var`);
      value = v.value;
    } else if (item.resourceFieldRef) {
      value = resourceFieldValue(pod, item.resourceFieldRef);
    } else {
      throw new BurstletError('INVALID_INPUT', `downwardAPI item ${JSON.stringify(item.path)} has no fieldRef or resourceFieldRef`);
    }
    return { path: item.path, contentBase64: Buffer.from(value).toString('base64'), mode: item.mode ?? undefined };
  });
}
