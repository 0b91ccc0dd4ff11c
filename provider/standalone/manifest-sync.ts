/**
 * Keeps the API server's pods in line with the manifest folder, as the kubelet keeps mirror
 * pods of its static pods: a new file creates its pods (bound to this node), an edited pod
 * is deleted gracefully and created anew once the old one is gone, a removed file's pods are
 * deleted gracefully. ConfigMaps and Secrets in the folder are created or replaced so pods
 * can refer to them. Watches the folder (fs.watch) and rescans periodically as a fallback.
 */
import { watch, type FSWatcher } from 'node:fs';
import { isAlreadyExists, isConflict, isNotFound, paths, type Kube, type KubeObject } from '../kube-client.ts';
import type { Logger } from '../../src/log.ts';
import { diffPods, readManifests, type ManifestObject } from './manifests.ts';

export const CONFIG_HASH = 'kubernetes.io/config.hash';
export const CONFIG_SOURCE = 'kubernetes.io/config.source';

export interface ManifestSyncOptions {
  kube: Kube;
  dir: string;
  nodeName: string;
  log: Logger;
  /** Periodic rescan (default 2 s); also the retry period of pending creations. */
  rescanMs?: number;
}

export class ManifestSync {
  readonly #o: ManifestSyncOptions;
  #applied = new Map<string, ManifestObject>();
  /** Pods waiting for their old version to be gone before they are created. */
  readonly #pending = new Map<string, ManifestObject>();
  readonly #reported = new Set<string>();
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #running: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(o: ManifestSyncOptions) {
    this.#o = o;
  }

  /** Applies the folder once, then follows it. */
  async start(): Promise<void> {
    await this.sync();
    try {
      this.#watcher = watch(this.#o.dir, () => {
        clearTimeout(this.#debounce);
        this.#debounce = setTimeout(() => void this.sync(), 100);
      });
      this.#watcher.on('error', (err) => this.#o.log.warn({ err }, 'manifest folder watch failed; rescanning periodically'));
    } catch (err) {
      this.#o.log.warn({ err, dir: this.#o.dir }, 'cannot watch the manifest folder; rescanning periodically');
    }
    this.#timer = setInterval(() => void this.sync(), this.#o.rescanMs ?? 2000);
  }

  /** One pass over the folder (serialised: passes never overlap). */
  sync(): Promise<void> {
    this.#running = this.#running.then(() => (this.#stopped ? undefined : this.#pass())).catch((err) => this.#o.log.error({ err }, 'manifest sync failed'));
    return this.#running;
  }

  async #pass(): Promise<void> {
    const set = await readManifests(this.#o.dir, this.#o.nodeName);
    for (const p of set.problems) {
      const key = `${p.file}: ${p.message}`;
      if (!this.#reported.has(key)) this.#o.log.error({ file: p.file }, `manifest skipped: ${p.message}`);
      this.#reported.add(key);
    }
    for (const o of set.objects.values()) await this.#applyObject(o);
    const diff = diffPods(this.#applied, set.pods);
    for (const pod of diff.removed) await this.#delete(pod, 'removed from the manifest folder');
    for (const { before, after } of diff.replaced) {
      await this.#delete(before, 'its manifest changed');
      this.#pending.set(key(after), after);
    }
    for (const pod of diff.added) this.#pending.set(key(pod), pod);
    for (const [k, pod] of [...this.#pending]) {
      if (!set.pods.has(k) || set.pods.get(k)!.metadata.uid !== pod.metadata.uid) {
        this.#pending.delete(k);
        continue;
      }
      if (await this.#create(pod)) this.#pending.delete(k);
    }
    this.#applied = set.pods;
  }

  async #applyObject(o: ManifestObject): Promise<void> {
    const base = o.kind === 'ConfigMap' ? paths.configMap(o.metadata.namespace, '') : paths.secret(o.metadata.namespace, '');
    const body = { ...o, metadata: { name: o.metadata.name, namespace: o.metadata.namespace, labels: o.metadata.labels, annotations: { ...o.metadata.annotations, [CONFIG_HASH]: o.metadata.uid } } };
    try {
      const current = await this.#o.kube.request('GET', `${base}${o.metadata.name}`).catch((err) => (isNotFound(err) ? undefined : Promise.reject(err)));
      if (!current) await this.#o.kube.request('POST', base.replace(/\/$/, ''), { body });
      else if (current.metadata?.annotations?.[CONFIG_HASH] !== o.metadata.uid) {
        await this.#o.kube.request('PUT', `${base}${o.metadata.name}`, { body: { ...body, metadata: { ...body.metadata, resourceVersion: current.metadata.resourceVersion } } });
      }
    } catch (err) {
      if (!isConflict(err)) this.#o.log.warn({ err, kind: o.kind, name: o.metadata.name }, 'could not apply manifest object');
    }
  }

  // Creates the pod bound to this node; false while an older pod of that name still exists.
  async #create(m: ManifestObject): Promise<boolean> {
    const { uid: hash, creationTimestamp: _c, ...meta } = m.metadata;
    const spec = { ...(m.spec as KubeObject), nodeName: this.#o.nodeName };
    const body = { ...m, apiVersion: 'v1', kind: 'Pod', metadata: { ...meta, annotations: { ...meta.annotations, [CONFIG_HASH]: hash, [CONFIG_SOURCE]: 'file' } }, spec };
    delete (body as KubeObject).status;
    try {
      await this.#o.kube.request('POST', `/api/v1/namespaces/${meta.namespace}/pods`, { body });
      this.#o.log.info({ pod: key(m) }, 'static pod created');
      return true;
    } catch (err) {
      if (isAlreadyExists(err)) return false;
      this.#o.log.error({ err, pod: key(m) }, `static pod rejected: ${(err as Error).message}`);
      return true;
    }
  }

  async #delete(m: ManifestObject, why: string): Promise<void> {
    try {
      await this.#o.kube.request('DELETE', paths.pod(m.metadata.namespace, m.metadata.name));
      this.#o.log.info({ pod: key(m) }, `static pod deleted: ${why}`);
    } catch (err) {
      if (!isNotFound(err)) this.#o.log.warn({ err, pod: key(m) }, 'could not delete static pod');
    }
  }

  /** Stops following the folder; with `deletePods`, deletes every file pod gracefully. */
  async stop(deletePods = false): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    clearTimeout(this.#debounce);
    this.#watcher?.close();
    await this.#running;
    if (deletePods) for (const pod of this.#applied.values()) await this.#delete(pod, 'burstlet is stopping');
  }
}

const key = (m: ManifestObject) => `${m.metadata.namespace}/${m.metadata.name}`;
