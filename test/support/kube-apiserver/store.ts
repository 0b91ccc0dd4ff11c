// In-memory object storage with one global, monotonically increasing resourceVersion (like
// etcd's revision) and a bounded history of changes that watches replay from.
import { clone, type KubeObject } from './objects.ts';

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** One committed change. `object` carries the change's resourceVersion (for DELETED too). */
export interface Change {
  type: ChangeType;
  rv: number;
  storage: string;
  object: KubeObject;
  /** The state before the change (undefined for ADDED); watches use it for selector transitions. */
  prev?: KubeObject;
}

export type ChangeListener = (change: Change) => void;

export interface StoreOptions {
  /** Changes kept for watches from an older resourceVersion (default 10 000). */
  historySize?: number;
}

const keyOf = (namespace: string | undefined, name: string) => `${namespace ?? ''}/${name}`;

/**
 * Objects by storage name ("pods", "leases.coordination.k8s.io") and namespace/name.
 * Contract: every write bumps the global resourceVersion by one, stamps it on the stored
 * object, records a Change and tells listeners synchronously before returning; callers
 * always get copies. No validation or semantics here — those live in the handlers.
 */
export class Store {
  private readonly data = new Map<string, Map<string, KubeObject>>();
  private readonly history: Change[] = [];
  private readonly listeners = new Set<ChangeListener>();
  private readonly historySize: number;
  private rv = 0;
  /** Highest resourceVersion whose change is no longer in history. */
  private compacted = 0;

  constructor(options: StoreOptions = {}) {
    this.historySize = options.historySize ?? 10_000;
  }

  /** The current (latest committed) resourceVersion. */
  get resourceVersion(): number {
    return this.rv;
  }

  /** Watches may start from any resourceVersion >= this; older ones get 410 Gone. */
  get compactedRevision(): number {
    return this.compacted;
  }

  get(storage: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const obj = this.data.get(storage)?.get(keyOf(namespace, name));
    return obj ? clone(obj) : undefined;
  }

  /** The stored object itself, for read-only checks on hot paths: callers must not mutate it. */
  peek(storage: string, namespace: string | undefined, name: string): Readonly<KubeObject> | undefined {
    return this.data.get(storage)?.get(keyOf(namespace, name));
  }

  /** Stored objects (unordered, uncloned) for read-only scans: callers must not mutate them. */
  *scan(storage: string, namespace?: string): Iterable<Readonly<KubeObject>> {
    const bucket = this.data.get(storage);
    if (!bucket) return;
    for (const obj of bucket.values()) if (namespace === undefined || obj.metadata.namespace === namespace) yield obj;
  }

  /** Objects of a storage, optionally in one namespace, in key order (as etcd lists them). */
  list(storage: string, namespace?: string): KubeObject[] {
    const bucket = this.data.get(storage);
    if (!bucket) return [];
    const keys = [...bucket.keys()].sort();
    const prefix = namespace === undefined ? '' : `${namespace}/`;
    return keys.filter((k) => k.startsWith(prefix)).map((k) => clone(bucket.get(k)!));
  }

  /** Stores a new object; the caller has checked it does not exist. */
  create(storage: string, obj: KubeObject): KubeObject {
    return this.commit('ADDED', storage, obj, undefined);
  }

  /** Replaces an existing object; the caller has done the resourceVersion precondition. */
  update(storage: string, obj: KubeObject): KubeObject {
    const prev = this.data.get(storage)?.get(keyOf(obj.metadata.namespace, obj.metadata.name!));
    return this.commit('MODIFIED', storage, obj, prev);
  }

  /** Removes an object; returns its last state stamped with the deletion's resourceVersion. */
  remove(storage: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const prev = this.data.get(storage)?.get(keyOf(namespace, name));
    if (!prev) return undefined;
    return this.commit('DELETED', storage, clone(prev), prev);
  }

  /** Changes after `rv` for a storage, or undefined when history no longer reaches back that far. */
  changesSince(rv: number): Change[] | undefined {
    if (rv < this.compacted) return undefined;
    return this.history.filter((c) => c.rv > rv);
  }

  /** Test hook: forget all history so every watch from an older resourceVersion gets 410. */
  compact(): void {
    this.history.length = 0;
    this.compacted = this.rv;
  }

  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private commit(type: ChangeType, storage: string, input: KubeObject, prev: KubeObject | undefined): KubeObject {
    this.rv += 1;
    const obj = clone(input);
    obj.metadata.resourceVersion = String(this.rv);
    let bucket = this.data.get(storage);
    if (!bucket) this.data.set(storage, (bucket = new Map()));
    const key = keyOf(obj.metadata.namespace, obj.metadata.name!);
    if (type === 'DELETED') bucket.delete(key);
    else bucket.set(key, obj);
    const change: Change = { type, rv: this.rv, storage, object: obj, prev };
    this.history.push(change);
    while (this.history.length > this.historySize) this.compacted = this.history.shift()!.rv;
    for (const listener of this.listeners) listener(change);
    return clone(obj);
  }
}
