/**
 * The node's pods, list + watch with `fieldSelector=spec.nodeName=<node>`, kept in a cache
 * (an informer). Watches ask for bookmarks so a quiet node's resourceVersion stays fresh;
 * a 410 Gone (history compacted) relists, and the relist reports pods that vanished in
 * between as deleted. Any other watch failure re-opens the watch after a short backoff.
 */
import type { Logger } from 'pino';
import { KubeApiError, paths, type Kube, type KubeObject } from './kube-client.ts';

/** Callbacks of the informer; called one at a time, in watch order. Must not throw. */
export interface PodHandler {
  upsert(pod: KubeObject): void;
  remove(pod: KubeObject): void;
}

export interface PodInformerOptions {
  kube: Kube;
  nodeName: string;
  handler: PodHandler;
  log: Logger;
  /** Server-side watch timeout (seconds); the watch is re-opened after it. */
  watchTimeoutSeconds?: number;
}

const key = (p: KubeObject) => `${p.metadata.namespace}/${p.metadata.name}`;

export class PodInformer {
  readonly #o: PodInformerOptions;
  readonly #pods = new Map<string, KubeObject>();
  #rv = '';
  #watch: { stop(): void } | undefined;
  #stopped = false;
  #backoffMs = 0;
  #synced!: Promise<void>;
  /** Completed relists (the first list included), for tests and metrics. */
  lists = 0;

  constructor(options: PodInformerOptions) {
    this.#o = options;
  }

  /** Lists, then watches; resolves after the first list has been delivered. */
  start(): Promise<void> {
    this.#synced = this.#cycle(true);
    return this.#synced;
  }

  stop(): void {
    this.#stopped = true;
    this.#watch?.stop();
  }

  /** Pods of the node from the cache (read-only objects). */
  list(): KubeObject[] {
    return [...this.#pods.values()];
  }

  get(namespace: string, name: string): KubeObject | undefined {
    return this.#pods.get(`${namespace}/${name}`);
  }

  get resourceVersion(): string {
    return this.#rv;
  }

  async #list(): Promise<void> {
    const selector = `spec.nodeName=${this.#o.nodeName}`;
    const list = await this.#o.kube.request('GET', paths.pods(), { query: { fieldSelector: selector } });
    const seen = new Set<string>();
    for (const pod of list.items ?? []) {
      seen.add(key(pod));
      this.#apply('ADDED', pod);
    }
    for (const [k, pod] of [...this.#pods]) if (!seen.has(k)) this.#apply('DELETED', pod);
    this.#rv = list.metadata?.resourceVersion ?? '';
    this.lists++;
  }

  #apply(type: string, pod: KubeObject): void {
    if (!pod?.metadata) return;
    const k = key(pod);
    if (type === 'DELETED') {
      this.#pods.delete(k);
      this.#o.handler.remove(pod);
      return;
    }
    const old = this.#pods.get(k);
    // A pod recreated under the same name is another pod: the old one is gone.
    if (old && old.metadata.uid !== pod.metadata.uid) this.#o.handler.remove(old);
    this.#pods.set(k, pod);
    this.#o.handler.upsert(pod);
  }

  // One list (when needed) and one watch; schedules the next cycle when the watch ends.
  async #cycle(first = false): Promise<void> {
    if (this.#stopped) return;
    try {
      if (!this.#rv) await this.#list();
    } catch (err) {
      if (first) throw err;
      this.#o.log.warn({ err }, 'pod list failed; retrying');
      return this.#retry();
    }
    const query = {
      fieldSelector: `spec.nodeName=${this.#o.nodeName}`,
      resourceVersion: this.#rv,
      allowWatchBookmarks: 'true',
      timeoutSeconds: String(this.#o.watchTimeoutSeconds ?? 300),
    };
    const watch = await this.#o.kube.watch(paths.pods(), query, (e) => this.#event(e.type, e.object), (err) => {
      this.#watch = undefined;
      if (err) {
        if (!(err instanceof Error && err.name === 'TimeoutError')) this.#o.log.warn({ err: String(err) }, 'pod watch ended; re-opening');
        if (isGone(err)) this.#rv = '';
        else return void this.#retry();
      }
      this.#backoffMs = 0;
      void this.#cycle();
    });
    // stop() may have come while the watch was being opened.
    if (this.#stopped) watch.stop();
    else this.#watch = watch;
  }

  #event(type: string, obj: KubeObject): void {
    if (type === 'ERROR') {
      if (obj?.code === 410) this.#rv = '';
      return;
    }
    if (type !== 'BOOKMARK') this.#apply(type, obj);
    this.#rv = obj?.metadata?.resourceVersion ?? this.#rv;
    this.#backoffMs = 0;
  }

  #retry(): void {
    this.#backoffMs = Math.min(this.#backoffMs ? this.#backoffMs * 2 : 200, 10_000);
    setTimeout(() => void this.#cycle(), this.#backoffMs).unref();
  }
}

const isGone = (err: unknown) => (err instanceof KubeApiError && err.status === 410) || (err as { statusCode?: number })?.statusCode === 410;
