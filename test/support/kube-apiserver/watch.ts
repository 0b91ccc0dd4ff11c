// Watch streams: newline-delimited JSON events over a chunked HTTP response, with the
// apiserver's resourceVersion start semantics, selector transitions, bookmarks and timeouts.
import type { ServerResponse } from 'node:http';
import type { KubeObject } from './objects.ts';
import type { Change, Store } from './store.ts';
import { ApiError, expired, type StatusObject } from './status.ts';

/** What a watch looks at and how it presents objects. */
export interface WatchRequest {
  storage: string;
  /** Only objects in this namespace (undefined = all). */
  namespace?: string;
  /** Only the object with this name (single-object watch). */
  name?: string;
  /** Selector test on an object (labels and fields); the caller compiles it. */
  matches: (obj: KubeObject) => boolean;
  /** Converts a stored object to what this API version returns (sets apiVersion/kind). */
  present: (obj: KubeObject) => KubeObject;
  /** The resourceVersion query parameter as given. */
  resourceVersion?: string;
  allowBookmarks: boolean;
  /** Server closes the stream after this many seconds. */
  timeoutSeconds?: number;
  /** Period of BOOKMARK events when allowed. */
  bookmarkIntervalMs: number;
  /** apiVersion/kind for BOOKMARK objects. */
  apiVersion: string;
  kind: string;
}

type EventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

/** Default server-side watch timeout when the client gives none (the apiserver picks 30–60 min). */
const DEFAULT_TIMEOUT_S = 1800;

/**
 * Serves one watch on `res` until timeout, client disconnect, or a call of the closer it adds
 * to `closers` (server stop, or a test forcing clients to re-watch).
 * A start resourceVersion older than the history window yields one ERROR event carrying a
 * 410 Expired Status and the stream ends, as the watch cache does. Throws ApiError (before
 * anything is written) for a resourceVersion that is not a number or is in the future.
 */
export function serveWatch(store: Store, req: WatchRequest, res: ServerResponse, closers: Set<() => void>): void {
  const start = parseStart(req.resourceVersion, store);
  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
  res.flushHeaders();
  const send = (type: EventType, object: KubeObject | StatusObject) => {
    if (!res.writableEnded) res.write(JSON.stringify({ type, object }) + '\n');
  };
  const inScope = (obj: KubeObject) =>
    (req.namespace === undefined || obj.metadata.namespace === req.namespace) &&
    (req.name === undefined || obj.metadata.name === req.name);
  const deliver = (change: Change) => {
    if (change.storage !== req.storage || !inScope(change.object)) return;
    const event = transition(change, req.matches);
    if (event) send(event.type, req.present(event.object));
  };
  let replay: Change[] | undefined = [];
  if (start === undefined) {
    for (const obj of store.list(req.storage, req.namespace)) if (inScope(obj) && req.matches(obj)) send('ADDED', req.present(obj));
  } else {
    replay = store.changesSince(start);
    if (!replay) {
      send('ERROR', expired(`too old resource version: ${start} (${store.compactedRevision})`).status);
      res.end();
      return;
    }
  }
  // Replay and subscription happen in one synchronous step, so no change can fall between them.
  for (const change of replay) deliver(change);
  const unsubscribe = store.subscribe(deliver);
  const timers: NodeJS.Timeout[] = [];
  const finish = () => {
    unsubscribe();
    for (const t of timers) clearTimeout(t);
    closers.delete(finish);
    if (!res.writableEnded) res.end();
  };
  timers.push(setTimeout(finish, (req.timeoutSeconds ?? DEFAULT_TIMEOUT_S) * 1000));
  if (req.allowBookmarks) {
    const bookmark = () => send('BOOKMARK', { apiVersion: req.apiVersion, kind: req.kind, metadata: { resourceVersion: String(store.resourceVersion) } });
    timers.push(setInterval(bookmark, req.bookmarkIntervalMs));
  }
  res.on('close', finish);
  closers.add(finish);
}

/** undefined = "current state first" (unset or "0"); else the number to replay after. */
function parseStart(rv: string | undefined, store: Store): number | undefined {
  if (rv === undefined || rv === '' || rv === '0') return undefined;
  const n = Number(rv);
  if (!/^\d+$/.test(rv) || !Number.isSafeInteger(n)) {
    throw new ApiError(400, 'BadRequest', `invalid resource version: ${rv}`);
  }
  if (n > store.resourceVersion) {
    // The watch cache waits briefly for a future revision, then answers with this.
    throw new ApiError(504, 'Timeout', `Too large resource version: ${n}, current: ${store.resourceVersion}`, {
      causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }], retryAfterSeconds: 1,
    });
  }
  return n;
}

/**
 * The event a selector-filtered watcher sees for a change, as the watch cache computes it:
 * entering the selector is ADDED, leaving it is DELETED carrying the previous content with
 * the new resourceVersion, staying inside is MODIFIED, staying outside is nothing.
 */
export function transition(change: Change, matches: (obj: KubeObject) => boolean): { type: ChangeType2; object: KubeObject } | undefined {
  const now = change.type !== 'DELETED' && matches(change.object);
  const before = change.prev !== undefined && matches(change.prev);
  if (change.type === 'DELETED') return before ? { type: 'DELETED', object: change.object } : undefined;
  if (now && !before) return { type: 'ADDED', object: change.object };
  if (now && before) return { type: 'MODIFIED', object: change.object };
  if (!now && before) {
    const object = structuredClone(change.prev!);
    object.metadata.resourceVersion = String(change.rv);
    return { type: 'DELETED', object };
  }
  return undefined;
}

type ChangeType2 = 'ADDED' | 'MODIFIED' | 'DELETED';
