/**
 * One run of `start` per key at a time: callers that arrive while it runs share its promise,
 * and the key is free again once it settles (waits on one container, deletes, snapshot
 * commits).
 */
export function singleFlight<K, V>(running: Map<K, Promise<V>>, key: K, start: () => Promise<V>): Promise<V> {
  let p = running.get(key);
  if (!p) {
    p = start().finally(() => running.delete(key));
    running.set(key, p);
  }
  return p;
}
