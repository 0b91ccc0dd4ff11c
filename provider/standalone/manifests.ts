/**
 * Static pods from a folder, the kubelet's `--pod-manifest-path` way: every *.yaml, *.yml
 * and *.json file may hold several documents; Pods become desired pods, ConfigMaps and
 * Secrets are what those pods may refer to. A pod's UID is derived from the node name, the
 * file and the pod's content, so editing a pod gives it a new UID (the kubelet replaces it)
 * and re-reading an unchanged folder changes nothing.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

export interface ManifestObject {
  apiVersion?: string;
  kind: string;
  metadata: { name: string; namespace: string; uid: string; creationTimestamp: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [k: string]: unknown;
}

export interface ManifestProblem {
  file: string;
  message: string;
}

export interface ManifestSet {
  /** Pods by "namespace/name". */
  pods: Map<string, ManifestObject>;
  /** ConfigMaps and Secrets by "kind/namespace/name" (kind lower-case). */
  objects: Map<string, ManifestObject>;
  /** Files (or documents) that could not be used, with why. Nothing else is dropped. */
  problems: ManifestProblem[];
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const SUPPORTED = new Set(['Pod', 'ConfigMap', 'Secret']);

const stableUid = (node: string, file: string, doc: unknown) => {
  const h = createHash('sha256').update(`${node}\0${file}\0${JSON.stringify(doc)}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
};

/** Parses one file's text into objects; throws with a message naming the document. */
export function parseManifest(text: string, file: string, nodeName: string, now: Date): ManifestObject[] {
  const docs = file.endsWith('.json') ? [JSON.parse(text) as unknown] : parseAllDocuments(text).map((d, i) => {
    if (d.errors.length) throw new Error(`document ${i + 1}: ${d.errors[0]!.message}`);
    return d.toJS() as unknown;
  });
  const out: ManifestObject[] = [];
  docs.forEach((doc, i) => {
    if (doc === null || doc === undefined) return;
    const where = docs.length > 1 ? `document ${i + 1}: ` : '';
    if (typeof doc !== 'object' || Array.isArray(doc)) throw new Error(`${where}expected a Kubernetes object`);
    const o = doc as Record<string, unknown>;
    const kind = String(o.kind ?? '');
    if (!SUPPORTED.has(kind)) throw new Error(`${where}kind ${JSON.stringify(o.kind)} is not supported here (Pod, ConfigMap, Secret)`);
    const meta = (o.metadata ?? {}) as Record<string, unknown>;
    const name = String(meta.name ?? '');
    if (!DNS_SUBDOMAIN.test(name) || name.length > 253) throw new Error(`${where}${kind} metadata.name ${JSON.stringify(meta.name)} is not a valid DNS-1123 subdomain`);
    const namespace = String(meta.namespace ?? 'default');
    out.push({
      ...o,
      kind,
      metadata: { ...meta, name, namespace, uid: stableUid(nodeName, file, o), creationTimestamp: now.toISOString() },
    } as ManifestObject);
  });
  return out;
}

/** Reads every manifest in `dir`. Bad files are reported in `problems`, never thrown. */
export async function readManifests(dir: string, nodeName: string, now = new Date()): Promise<ManifestSet> {
  const set: ManifestSet = { pods: new Map(), objects: new Map(), problems: [] };
  let files: string[];
  try {
    files = (await readdir(dir)).filter((f) => /\.(ya?ml|json)$/.test(f) && !f.startsWith('.')).sort();
  } catch (err) {
    set.problems.push({ file: dir, message: `cannot read the manifest folder: ${(err as Error).message}` });
    return set;
  }
  for (const file of files) {
    let objects: ManifestObject[];
    try {
      objects = parseManifest(await readFile(join(dir, file), 'utf8'), file, nodeName, now);
    } catch (err) {
      set.problems.push({ file, message: (err as Error).message });
      continue;
    }
    for (const o of objects) {
      const key = o.kind === 'Pod' ? `${o.metadata.namespace}/${o.metadata.name}` : `${o.kind.toLowerCase()}/${o.metadata.namespace}/${o.metadata.name}`;
      const target = o.kind === 'Pod' ? set.pods : set.objects;
      if (target.has(key)) {
        set.problems.push({ file, message: `${o.kind} ${o.metadata.namespace}/${o.metadata.name} is defined twice; the first one is kept` });
        continue;
      }
      target.set(key, o);
    }
  }
  return set;
}

export interface ManifestDiff {
  added: ManifestObject[];
  /** Same namespace/name, new content (so a new UID): the old pod is replaced. */
  replaced: { before: ManifestObject; after: ManifestObject }[];
  removed: ManifestObject[];
}

/** What changed between two readings of the folder's pods. */
export function diffPods(before: ReadonlyMap<string, ManifestObject>, after: ReadonlyMap<string, ManifestObject>): ManifestDiff {
  const diff: ManifestDiff = { added: [], replaced: [], removed: [] };
  for (const [key, pod] of after) {
    const old = before.get(key);
    if (!old) diff.added.push(pod);
    else if (old.metadata.uid !== pod.metadata.uid) diff.replaced.push({ before: old, after: pod });
  }
  for (const [key, pod] of before) if (!after.has(key)) diff.removed.push(pod);
  return diff;
}
