/**
 * Every Redis key and queue name burstlet uses, in one place. All keys share a prefix
 * (default `burstlet`) so several deployments can share one Redis.
 */
export interface Keys {
  readonly prefix: string;
  /** BullMQ queue name of a pool (BullMQ adds its own `<prefix>:<name>:` keys). */
  queue(pool: string): string;
  /** Stream of PodEvents from every worker; the provider reads it in a consumer group. */
  readonly events: string;
  /** Malformed messages moved aside: fields source, id, error, payload. */
  readonly deadLetter: string;
  /** Worker heartbeat key (JSON WorkerInfo, with a TTL). */
  worker(id: string): string;
  /** Set of the worker ids ever seen in a pool (expired ones are pruned by readers). */
  workers(pool: string): string;
  /** Control stream of one worker (stop, exec). */
  control(workerId: string): string;
  /** Which worker runs a pod (string, set by the worker when it claims the job). */
  podWorker(uid: string): string;
  /** Per-pod event sequence counter (INCR), monotonic across workers and restarts. */
  podSeq(uid: string): string;
  /**
   * The container statuses a pod's worker last published (JSON `PodStatuses`), so the next
   * worker to run a pod lost with its host continues its restart counts.
   */
  podStatuses(uid: string): string;
  /** Capped stream of a container's CRI-format log lines. */
  logs(uid: string, container: string): string;
  /** Hash pod UID → highest PodEvent seq the provider has written to the API (survives provider restarts). */
  readonly appliedSeq: string;
  /** Latest stats snapshot of a pod (JSON with a TTL). */
  stats(uid: string): string;
  /** Output stream of an exec session (worker → provider). */
  execOutput(sessionId: string): string;
  /** Input stream of an exec session (provider → worker). */
  execInput(sessionId: string): string;
}

export function redisKeys(prefix = 'burstlet'): Keys {
  if (!/^[A-Za-z0-9_.-]+$/.test(prefix)) throw new Error(`invalid key prefix ${JSON.stringify(prefix)}`);
  const k = (...parts: string[]) => [prefix, ...parts].join(':');
  return {
    prefix,
    queue: (pool) => `pods-${pool}`,
    events: k('events'),
    deadLetter: k('deadletter'),
    worker: (id) => k('worker', id),
    workers: (pool) => k('workers', pool),
    control: (id) => k('control', id),
    podWorker: (uid) => k('pod', uid, 'worker'),
    podSeq: (uid) => k('pod', uid, 'seq'),
    podStatuses: (uid) => k('pod', uid, 'statuses'),
    logs: (uid, container) => k('logs', uid, container),
    appliedSeq: k('provider', 'applied-seq'),
    stats: (uid) => k('stats', uid),
    execOutput: (id) => k('exec', id, 'out'),
    execInput: (id) => k('exec', id, 'in'),
  };
}

/** The consumer group the provider(s) use on the events stream. */
export const EVENTS_GROUP = 'provider';
