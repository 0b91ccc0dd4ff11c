/**
 * Reading keys of configMaps and secrets the way the kubelet does: a missing object or key
 * is CreateContainerConfigError (retried) unless the reference is `optional`.
 */
import { BurstletError } from '../../src/errors.ts';
import type { KubeObject } from '../kube-client.ts';
import type { Sources } from './sources.ts';

export type SourceKind = 'configmap' | 'secret';

/** Fetches a configMap or secret; undefined only when missing and optional. */
export async function fetchSource(sources: Sources, kind: SourceKind, namespace: string, name: string, optional: boolean | undefined): Promise<KubeObject | undefined> {
  const obj = kind === 'configmap' ? await sources.configMap(namespace, name) : await sources.secret(namespace, name);
  if (!obj && !optional) throw new BurstletError('CONTAINER_CONFIG', `${kind} "${name}" not found`, { details: { kind, name } });
  return obj;
}

/** All entries of a configMap or secret as bytes (configMap data is text, binaryData and secret data base64). */
export function entries(kind: SourceKind, obj: KubeObject): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  if (kind === 'configmap') {
    for (const [k, v] of Object.entries(obj.data ?? {})) out.set(k, Buffer.from(String(v), 'utf8'));
    for (const [k, v] of Object.entries(obj.binaryData ?? {})) out.set(k, Buffer.from(String(v), 'base64'));
  } else {
    for (const [k, v] of Object.entries(obj.data ?? {})) out.set(k, Buffer.from(String(v), 'base64'));
    for (const [k, v] of Object.entries(obj.stringData ?? {})) out.set(k, Buffer.from(String(v), 'utf8'));
  }
  return out;
}

/** One key's value; a missing key is CreateContainerConfigError unless optional. */
export async function keyValue(sources: Sources, kind: SourceKind, namespace: string, ref: { name?: string; key: string; optional?: boolean }): Promise<Buffer | undefined> {
  const obj = await fetchSource(sources, kind, namespace, ref.name ?? '', ref.optional);
  if (!obj) return undefined;
  const value = entries(kind, obj).get(ref.key);
  if (value === undefined && !ref.optional) {
    throw new BurstletError('CONTAINER_CONFIG', `couldn't find key ${ref.key} in ${kind === 'configmap' ? 'ConfigMap' : 'Secret'} ${namespace}/${ref.name}`, { details: { kind, name: ref.name, key: ref.key } });
  }
  return value;
}
