/**
 * The host side of `PodReporter`: pod snapshots become PodEvents on `keys.events` with
 * `seq = INCR keys.podSeq(uid)` (one Lua call, so seq order is publish order) and their
 * container statuses to `keys.podStatuses(uid)` in the same call (what the next worker
 * continues from if this one is lost), log lines go to the container's capped stream,
 * stats to `keys.stats(uid)` with a TTL.
 *
 * Calls never throw and never wait for Redis. A snapshot is sent `coalesceMs` (15 ms) after
 * it arrives (a terminal one after `terminalHoldMs`, 250 ms; one of a pod whose sandbox is
 * still being made, Pending without PodReadyToStartContainers, after `startHoldMs`, 100 ms,
 * or `coalesceMs` after the next one arrives), or at once by `flush` (the host
 * flushes a pod before its job leaves the worker, so nothing of ours is published after the
 * pod moved on). Snapshots arriving meanwhile, while one is in flight, or while Redis is
 * unreachable, are merged into one pending snapshot (the latest state wins, the `notes` of
 * every merged snapshot are kept, so no Kubernetes Event is lost) and sent when Redis is
 * back. A pod's steps come in bursts (sandbox up then its IP, container running then
 * started, exited then the sandbox gone, a few ms apart): merged, a `/bin/true` pod
 * publishes 2 or 3 events instead of 6, for the host's Redis and the provider alike; as with
 * the kubelet's status manager, intermediate states may be skipped, the latest never. Log
 * lines written while Redis is unreachable are dropped and counted: the CRI log files on the
 * host stay complete.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Keys } from '../../src/keys.ts';
import { FIELD } from '../../src/streams.ts';
import { LOG_STREAM_MAXLEN, STATS_TTL_SECONDS, type LogRecord, type PodStats } from '../../src/schema/streams.ts';
import type { PodReporter, PodSnapshot } from '../pod-runner.ts';
import { POD_WORKER_TTL_SECONDS } from './job-moves.ts';

// KEYS[1] per-pod seq counter, KEYS[2] events stream, KEYS[3] the pod's statuses key,
// KEYS[4] the pod's worker key; ARGV[1] the event as a JSON object without `seq`, ARGV[2]
// its container statuses as a JSON object without `seq` ('' when it carries none), ARGV[3]
// the statuses key's TTL in seconds (0: none), ARGV[4] this worker's id. Splicing seq in as
// text keeps the worker's JSON byte-for-byte (cjson would turn empty arrays into objects).
// The statuses are written only while the pod's worker key names this worker: once another
// worker has claimed the pod, a late snapshot of ours must not overwrite what it read.
const PUBLISH_EVENT = `
local seq = redis.call('INCR', KEYS[1])
redis.call('XADD', KEYS[2], '*', '${FIELD}', '{"seq":' .. seq .. ',' .. string.sub(ARGV[1], 2))
if ARGV[2] ~= '' and redis.call('GET', KEYS[4]) == ARGV[4] then
  local statuses = '{"seq":' .. seq .. ',' .. string.sub(ARGV[2], 2)
  if ARGV[3] == '0' then redis.call('SET', KEYS[3], statuses)
  else redis.call('SET', KEYS[3], statuses, 'EX', ARGV[3]) end
end
return seq`;

const TERMINAL = new Set(['Succeeded', 'Failed']);

/** Most notes one merged snapshot carries (a pod crash-looping while Redis is down). */
const MAX_MERGED_NOTES = 200;

type EventRedis = Redis & {
  publishPodEvent(seqKey: string, stream: string, statusesKey: string, workerKey: string, event: string, statuses: string, ttl: number, workerId: string): Promise<number>;
};

interface PodState {
  inflight: boolean;
  pending: PodSnapshot | undefined;
  /** The coalescing delay of `pending` runs. */
  timer: NodeJS.Timeout | undefined;
  /** `timer` is the start hold: the next snapshot cuts it short. */
  startHold: boolean;
  /** Resolved when the pod has nothing pending or in flight (flush). */
  settled: (() => void)[];
  stats: Omit<PodStats, 'workerId' | 'at'> | undefined;
}

/** The reporter's Redis and identity; the reporter never closes the connection (the host does). */
export interface ReporterOptions {
  /** A connection with `enableOfflineQueue: false`, so calls fail fast while Redis is down. */
  redis: Redis;
  keys: Keys;
  workerId: string;
  log: Logger;
  /** Retry period for pending snapshots while Redis is unreachable. */
  retryMs?: number;
  /** How long a snapshot waits for the next one to merge with (default 15 ms; 0 sends at once). */
  coalesceMs?: number;
  /**
   * How long a terminal snapshot (Succeeded, Failed) waits instead (default 250 ms; 0 with
   * `coalesceMs` 0). The host flushes the pod once its sandbox is torn down, which sends it
   * then with the teardown's own change merged in: one event instead of two.
   */
  terminalHoldMs?: number;
  /**
   * How long a snapshot of a pod whose sandbox is still being made waits for the next one
   * (default 100 ms; 0 with `coalesceMs` 0). The sandbox is up within milliseconds as a rule:
   * one event carries both, as the kubelet's first status after its sync does, instead of a
   * ContainerCreating event followed at once by another with the sandbox's conditions.
   */
  startHoldMs?: number;
}

const DEFAULT_COALESCE_MS = 15;
const DEFAULT_TERMINAL_HOLD_MS = 250;
const DEFAULT_START_HOLD_MS = 100;

/** A Pending pod whose sandbox is not up yet (its PodReadyToStartContainers is not True). */
const sandboxPending = (s: PodSnapshot) =>
  s.phase === 'Pending' && s.conditions?.find((c) => c.type === 'PodReadyToStartContainers')?.status !== 'True';

/** The `PodStatuses` of a snapshot without `seq` (the script adds it); '' when it has none. */
function statusesJson(snapshot: PodSnapshot, workerId: string): string {
  const { initContainerStatuses, containerStatuses } = snapshot;
  if (!initContainerStatuses?.length && !containerStatuses?.length) return '';
  return JSON.stringify({ workerId, ...(initContainerStatuses ? { initContainerStatuses } : {}), ...(containerStatuses ? { containerStatuses } : {}) });
}

/** Newer state wins; notes accumulate in order. */
export function mergeSnapshots(older: PodSnapshot, newer: PodSnapshot): PodSnapshot {
  const notes = [...(older.notes ?? []), ...(newer.notes ?? [])].slice(-MAX_MERGED_NOTES);
  return notes.length ? { ...newer, notes } : newer;
}

export class RedisReporter {
  readonly #o: ReporterOptions;
  readonly #redis: EventRedis;
  readonly #pods = new Map<string, PodState>();
  #retry: NodeJS.Timeout | undefined;
  #droppedLogs = 0;
  #closed = false;
  #idle: (() => void)[] = [];

  constructor(options: ReporterOptions) {
    this.#o = options;
    this.#redis = options.redis as unknown as EventRedis;
    if (typeof (options.redis as unknown as Partial<EventRedis>).publishPodEvent !== 'function') {
      options.redis.defineCommand('publishPodEvent', { numberOfKeys: 4, lua: PUBLISH_EVENT });
    }
    this.#redis.on('ready', () => this.#flushAll());
  }

  /** The reporter one pod's runner gets. */
  forPod(uid: string): PodReporter {
    // The runner must never see an exception from reporting (a snapshot that cannot be
    // serialised, say): it is logged and dropped.
    const safe = <A extends unknown[]>(what: string, fn: (...args: A) => void) => (...args: A) => {
      try {
        fn(...args);
      } catch (err) {
        this.#o.log.error({ err, uid }, `${what} dropped`);
      }
    };
    return {
      status: safe('pod status', (snapshot: PodSnapshot) => this.status(snapshot)),
      log: safe('log line', (container: string, record: LogRecord) => this.log(uid, container, record)),
      stats: safe('pod stats', (stats: Omit<PodStats, 'workerId' | 'at'>) => this.stats(stats)),
    };
  }

  status(snapshot: PodSnapshot): void {
    const state = this.#state(snapshot.uid);
    state.pending = state.pending ? mergeSnapshots(state.pending, snapshot) : snapshot;
    if (state.startHold) {
      // What the start hold waited for (or more of the sandbox's making): it all goes after
      // the usual coalescing, never a second hold.
      clearTimeout(state.timer);
      state.timer = undefined;
      state.startHold = false;
      this.#schedule(snapshot.uid, state, false);
      return;
    }
    if (!state.inflight && !state.timer) this.#schedule(snapshot.uid, state);
  }

  /**
   * Sends the pod's pending snapshot now; resolves once nothing of the pod is pending or in
   * flight, or at once while Redis is unreachable (the retry sends it later).
   */
  flush(uid: string): Promise<void> {
    const state = this.#pods.get(uid);
    if (!state || (!state.pending && !state.inflight)) return Promise.resolve();
    clearTimeout(state.timer);
    state.timer = undefined;
    state.startHold = false;
    this.#send(uid, state);
    if (!state.inflight) return Promise.resolve();
    return new Promise((resolve) => state.settled.push(resolve));
  }

  log(uid: string, container: string, record: LogRecord): void {
    if (this.#redis.status !== 'ready') {
      this.#dropLog();
      return;
    }
    this.#redis
      .xadd(this.#o.keys.logs(uid, container), 'MAXLEN', '~', LOG_STREAM_MAXLEN, '*', FIELD, JSON.stringify(record))
      .catch(() => this.#dropLog());
  }

  stats(stats: Omit<PodStats, 'workerId' | 'at'>): void {
    const state = this.#state(stats.uid);
    state.stats = stats;
    this.#sendStats(stats.uid, state);
  }

  /** Log lines dropped because Redis was unreachable. */
  get droppedLogs(): number {
    return this.#droppedLogs;
  }

  /** Resolves when no snapshot is pending or in flight, or after `timeoutMs`. */
  async drain(timeoutMs: number): Promise<boolean> {
    for (const uid of [...this.#pods.keys()]) void this.flush(uid);
    if (this.#pods.size === 0) return true;
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.#idle.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /** Stops retrying; what is still pending is dropped. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#retry);
    this.#retry = undefined;
    for (const state of this.#pods.values()) {
      clearTimeout(state.timer);
      state.timer = undefined;
      state.startHold = false;
    }
  }

  #state(uid: string): PodState {
    let state = this.#pods.get(uid);
    if (!state) {
      state = { inflight: false, pending: undefined, timer: undefined, startHold: false, settled: [], stats: undefined };
      this.#pods.set(uid, state);
    }
    return state;
  }

  /** Sends the pending snapshot after the coalescing delay (at once without one); `mayHold`: a start hold may apply. */
  #schedule(uid: string, state: PodState, mayHold = true): void {
    const coalesce = this.#o.coalesceMs ?? DEFAULT_COALESCE_MS;
    const hold = this.#o.terminalHoldMs ?? (coalesce <= 0 ? 0 : DEFAULT_TERMINAL_HOLD_MS);
    const startHold = this.#o.startHoldMs ?? (coalesce <= 0 ? 0 : DEFAULT_START_HOLD_MS);
    const pending = state.pending;
    let delay = coalesce;
    if (pending && TERMINAL.has(pending.phase)) delay = Math.max(coalesce, hold);
    else if (mayHold && pending && startHold > coalesce && sandboxPending(pending)) {
      delay = startHold;
      state.startHold = true;
    }
    if (delay <= 0) return this.#send(uid, state);
    state.timer = setTimeout(() => {
      state.timer = undefined;
      state.startHold = false;
      if (state.pending) this.#send(uid, state);
      else this.#forgetIfIdle(uid, state);
    }, delay);
  }

  #send(uid: string, state: PodState): void {
    const snapshot = state.pending;
    if (!snapshot || state.inflight || this.#closed) return;
    if (this.#redis.status !== 'ready') {
      this.#scheduleRetry();
      return;
    }
    state.pending = undefined;
    // Throws (and the snapshot is lost) only for a snapshot that is not JSON; nothing is in flight yet.
    const { keys, workerId } = this.#o;
    const event = JSON.stringify({ workerId, at: Date.now(), ...snapshot });
    const statuses = statusesJson(snapshot, workerId);
    // A pod's statuses live while it runs and a day after its terminal snapshot, like keys.podWorker.
    const ttl = TERMINAL.has(snapshot.phase) ? POD_WORKER_TTL_SECONDS : 0;
    state.inflight = true;
    this.#redis
      .publishPodEvent(keys.podSeq(uid), keys.events, keys.podStatuses(uid), keys.podWorker(uid), event, statuses, ttl, workerId)
      .then(
        () => true,
        (err: unknown) => {
          this.#o.log.warn({ err, uid }, 'pod event not published; will resend the latest state');
          state.pending = state.pending ? mergeSnapshots(snapshot, state.pending) : snapshot;
          this.#scheduleRetry();
          return false;
        },
      )
      .then((sent) => {
        state.inflight = false;
        // After a failure only the retry timer or the 'ready' event resends: never a tight loop.
        // What came in while this one was in flight goes now when it is being flushed, else
        // after the coalescing delay.
        if (sent && state.pending && !state.timer) {
          if (state.settled.length > 0) this.#send(uid, state);
          else this.#schedule(uid, state);
        }
        if (!state.inflight) {
          for (const done of state.settled.splice(0)) done();
          this.#forgetIfIdle(uid, state);
        }
      });
  }

  #sendStats(uid: string, state: PodState): void {
    const stats = state.stats;
    if (!stats || this.#closed || this.#redis.status !== 'ready') return;
    state.stats = undefined;
    const json = JSON.stringify({ ...stats, workerId: this.#o.workerId, at: Date.now() });
    this.#redis.set(this.#o.keys.stats(uid), json, 'EX', STATS_TTL_SECONDS).then(
      () => this.#forgetIfIdle(uid, state),
      () => {
        state.stats ??= stats;
        this.#scheduleRetry();
      },
    );
  }

  #forgetIfIdle(uid: string, state: PodState): void {
    if (state.inflight || state.pending || state.timer || state.stats) return;
    if (this.#pods.get(uid) === state) this.#pods.delete(uid);
    if (this.#pods.size === 0) {
      const idle = this.#idle;
      this.#idle = [];
      for (const done of idle) done();
    }
  }

  #scheduleRetry(): void {
    if (this.#retry || this.#closed) return;
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      this.#flushAll();
    }, this.#o.retryMs ?? 1000);
  }

  #flushAll(): void {
    for (const [uid, state] of this.#pods) {
      this.#send(uid, state);
      this.#sendStats(uid, state);
    }
  }

  #dropLog(): void {
    if (this.#droppedLogs++ === 0) this.#o.log.warn('Redis unreachable: dropping log lines (CRI log files keep them)');
  }
}
