/**
 * The queue consumer: claims pod jobs from the pool's BullMQ queue one at a time (manual
 * processing, `getNextJob`; a completion takes the next waiting job in the same call),
 * admits a job only when the pod's requests fit the free allocatable, runs it through the
 * `PodRunner`, keeps its lock while it runs (LockKeeper) and completes it with the pod's
 * outcome. It never overcommits: the ledger entry is added before the first wait of an
 * admission, and a pod that does not fit goes back to the queue untouched.
 *
 * A job whose pod already ran somewhere (`keys.podWorker(uid)` is set and this host does
 * not hold the pod) was lost by its host: restartPolicy Never pods end Failed/WorkerLost,
 * the others run again here, continuing the restart counts the lost host last published
 * (see lost-pod.ts).
 */
import type { Job, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Keys } from '../../src/keys.ts';
import { podJob, podRequests, type PodJob } from '../../src/schema/pod-job.ts';
import type { PodStatuses } from '../../src/schema/pod-event.ts';
import type { PodOutcome, PodReporter, PodRunner, PodSnapshot, RunOptions } from '../pod-runner.ts';
import type { Ledger } from './capacity.ts';
import * as moves from './job-moves.ts';
import type { LockKeeper } from './lock-keeper.ts';
import { carriedFrom, lostStatuses } from './lost-pod.ts';
import type { Registry } from './registry.ts';
import type { RedisReporter } from './reporter.ts';

/** Everything the consumer drives; the host owns and closes each of them. */
export interface ConsumerOptions {
  /** A BullMQ Worker without a processor (manual processing). */
  worker: Worker;
  redis: Redis;
  keys: Keys;
  workerId: string;
  queueKey: string;
  runner: PodRunner;
  reporter: RedisReporter;
  ledger: Ledger;
  locks: LockKeeper;
  registry: Registry;
  log: Logger;
  handbackDelayMs: number;
}

/** run: normal; handback: stopping to return the job; fenced: the lock is lost, the job is not ours. */
type Mode = 'run' | 'handback' | 'fenced';

interface RunningPod {
  job: Job;
  pod: PodJob;
  mode: Mode;
  done: Promise<void>;
}

const TERMINAL = new Set(['Succeeded', 'Failed']);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class JobConsumer {
  readonly #o: ConsumerOptions;
  readonly #ctx: moves.MoveContext;
  readonly #running = new Map<string, RunningPod>();
  #stopping = false;
  #abandoned = false;
  #loop: Promise<void> | undefined;

  constructor(options: ConsumerOptions) {
    this.#o = options;
    this.#ctx = { redis: options.redis, keys: options.keys, workerId: options.workerId, queueKey: options.queueKey };
  }

  start(): void {
    this.#loop = this.#claimLoop();
  }

  /**
   * Stops claiming; resolves once no claim is in flight (normally within the drain delay),
   * or after `maxWaitMs` when Redis is unreachable and a fetch hangs.
   */
  async stopClaiming(maxWaitMs = 10_000): Promise<void> {
    this.#stopping = true;
    this.#o.ledger.wakeAll();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.#loop, new Promise((r) => (timer = setTimeout(r, maxWaitMs)))]);
    clearTimeout(timer);
  }

  /** Stops claiming and settling without touching any job (a crash, see WorkerHost.abandon). */
  abandon(): void {
    this.#stopping = true;
    this.#abandoned = true;
    this.#o.ledger.wakeAll();
  }

  uids(): string[] {
    return [...this.#running.keys()];
  }

  /** Resolves when every pod running now has ended and its job has been settled. */
  async waitAll(): Promise<void> {
    await Promise.all([...this.#running.values()].map((r) => r.done));
  }

  /** Stops every pod and returns its job to the queue for another host. */
  async handBackAll(graceSeconds: (pod: PodJob) => number): Promise<void> {
    const all = [...this.#running.values()];
    for (const r of all) {
      r.mode = 'handback';
      this.#o.runner.stop(r.pod.uid, graceSeconds(r.pod)).catch((err) => this.#o.log.error({ err, uid: r.pod.uid }, 'stop failed'));
    }
    await Promise.all(all.map((r) => r.done));
  }

  /** The lock of a running pod is lost: stop it here, leave its job alone. */
  fence(uid: string): void {
    const r = this.#running.get(uid);
    if (!r) return;
    r.mode = 'fenced';
    this.#o.runner.stop(uid, 0).catch((err) => this.#o.log.error({ err, uid }, 'stop failed'));
  }

  /** Runs a job whose lock this host already holds (re-adoption after a restart). */
  adopt(job: Job): Promise<void> {
    return this.#admit(job, true).then(() => undefined);
  }

  async #claimLoop(): Promise<void> {
    const { worker, ledger, log, workerId } = this.#o;
    while (!this.#stopping) {
      if (!ledger.hasFreeSlot()) {
        await ledger.changed(1000);
        continue;
      }
      let job: Job | undefined;
      try {
        job = await worker.getNextJob(workerId, { block: true });
      } catch (err) {
        if (this.#stopping) break;
        log.warn({ err }, 'fetching a job failed; retrying');
        await sleep(1000);
        continue;
      }
      if (!job) continue;
      if (this.#stopping) {
        await moves.giveBack(this.#ctx, job).catch((err) => log.warn({ err, jobId: job.id }, 'give back failed; the job will stall and be retried'));
        break;
      }
      const verdict = await this.#admit(job).catch((err) => {
        log.error({ err, jobId: job.id }, 'admitting a job failed; it will stall and be offered again');
        return 'error';
      });
      // Nothing changes for a pod that did not fit until a pod ends here: wait for that
      // (or the hand-back delay) instead of claiming the next job at once.
      if (verdict === 'unfit') await ledger.changed(this.#o.handbackDelayMs);
    }
  }

  async #admit(job: Job, readopted = false): Promise<'malformed' | 'unfit' | 'lost' | 'run'> {
    const { ledger, workerId, runner, log } = this.#o;
    let pod: PodJob;
    try {
      pod = podJob(job.data);
      if (pod.uid !== job.id) throw new Error(`job id ${JSON.stringify(job.id)} is not the pod UID ${JSON.stringify(pod.uid)}`);
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      log.warn({ jobId: job.id, err: error }, 'malformed pod job moved to dead-letter');
      await moves.rejectMalformed(this.#ctx, job, error);
      return 'malformed';
    }
    const requests = podRequests(pod);
    // A re-adopted pod already runs here: it is counted, never handed back.
    const why = readopted ? undefined : ledger.insufficient(requests);
    if (why) {
      const free = ledger.allocatable.cpuMillis - ledger.used().cpuMillis;
      const message = `worker ${workerId}: ${why} (requests cpu ${requests.cpuMillis}m, memory ${requests.memoryBytes}; free cpu ${free}m)`;
      await moves.handBackUnfit(this.#ctx, job, why, message, this.#o.handbackDelayMs);
      return 'unfit';
    }
    if (this.#running.has(pod.uid)) {
      // Our own copy lost its lock and is still stopping: offer the job again a bit later.
      await moves.retryLater(this.#ctx, job, this.#o.handbackDelayMs);
      return 'unfit';
    }
    // The pod's share is taken before the first wait: admissions overlap (the claim loop's,
    // and a job fetched with a completion, see #runToEnd), and each must see the other's.
    ledger.add(pod.uid, requests);
    let previous: moves.PreviousRun;
    try {
      // Claims the pod for this host and learns who had it before, in one round trip.
      previous = await moves.markRunning(this.#ctx, job);
    } catch (err) {
      ledger.release(pod.uid);
      throw err;
    }
    const adopting = previous.worker === workerId && runner.list().includes(pod.uid);
    const lostWith = adopting ? null : previous.worker;
    if (lostWith !== null && pod.restartPolicy === 'Never') {
      ledger.release(pod.uid);
      await this.#failLost(job, pod, lostWith, previous.statuses);
      return 'lost';
    }
    const options: RunOptions = lostWith !== null && previous.statuses ? { carried: carriedFrom(previous.statuses, lostWith, pod.restartPolicy) } : {};
    if (lostWith !== null) log.warn({ uid: pod.uid, previous: lostWith, carried: options.carried }, 'pod lost with its worker; running it again');
    this.#o.locks.track(pod.uid);
    const entry: RunningPod = { job, pod, mode: 'run', done: Promise.resolve() };
    this.#running.set(pod.uid, entry);
    void this.#o.registry.beat();
    entry.done = this.#runToEnd(entry, options);
    return 'run';
  }

  async #runToEnd(entry: RunningPod, options: RunOptions): Promise<void> {
    const { runner, log, ledger, locks } = this.#o;
    const { job, pod } = entry;
    let outcome: PodOutcome;
    try {
      outcome = await runner.run(pod, this.#reporterFor(entry), options);
    } catch (err) {
      outcome = { phase: 'Failed', reason: 'RuntimeError', message: err instanceof Error ? err.message : String(err) };
    }
    let next: Job | undefined;
    try {
      next = await this.#settle(entry, outcome);
    } catch (err) {
      log.error({ err, uid: pod.uid }, 'could not settle the job; it will stall and be offered again');
    } finally {
      locks.untrack(pod.uid);
      if (this.#running.get(pod.uid) === entry) this.#running.delete(pod.uid);
      ledger.release(pod.uid);
      void this.#o.registry.beat();
    }
    // The next job came with the completion (BullMQ's fetchNext: one round trip fewer per
    // pod); it takes the share this pod left in this same tick, so no claim comes between.
    // Awaited (its admission only, not its pod): a shutdown waiting for this pod's end also
    // waits for that job to be running here or given back.
    if (next) await this.#takeFetched(next);
  }

  /** A job the queue handed over with a completion: admitted as the claim loop admits one. */
  async #takeFetched(job: Job): Promise<void> {
    const { log } = this.#o;
    if (this.#abandoned) return; // as after a crash: it stalls and is offered again
    if (this.#stopping) {
      await moves.giveBack(this.#ctx, job).catch((err) => log.warn({ err, jobId: job.id }, 'give back failed; the job will stall and be retried'));
      return;
    }
    await this.#admit(job).catch((err) => log.error({ err, jobId: job.id }, 'admitting a job failed; it will stall and be offered again'));
  }

  /**
   * Completes (retrying while Redis is away and the lock is still ours), or returns the job.
   * A completion while the host still claims also takes the next waiting job, returned here.
   */
  async #settle(entry: RunningPod, outcome: PodOutcome): Promise<Job | undefined> {
    const { job, pod } = entry;
    for (let attempt = 0; ; attempt++) {
      if (this.#abandoned || entry.mode === 'fenced' || !this.#o.locks.holds(pod.uid)) return;
      try {
        this.#o.locks.settling(pod.uid);
        // Everything this worker says of the pod is published before the job moves on.
        if (entry.mode === 'handback') {
          this.#o.reporter.status(rescheduled(pod, this.#o.workerId));
          await this.#o.reporter.flush(pod.uid);
          await moves.returnToQueue(this.#ctx, job);
        } else {
          await this.#o.reporter.flush(pod.uid);
          const done = await moves.complete(this.#ctx, job, outcome, this.#stopping ? undefined : this.#o.worker);
          if (done.keysError) this.#o.log.warn({ err: done.keysError, uid: pod.uid }, 'the pod\'s worker and statuses keys got no TTL');
          return done.next;
        }
        return undefined;
      } catch (err) {
        if (attempt >= 5) throw err;
        await sleep(500 * 2 ** attempt);
      }
    }
  }

  async #failLost(job: Job, pod: PodJob, previous: string, statuses: PodStatuses | undefined): Promise<void> {
    const message = `worker ${previous} was lost while the pod ran; restartPolicy Never: not run again`;
    this.#o.log.warn({ uid: pod.uid, previous }, 'pod lost with its worker; failing it');
    this.#o.reporter.status({
      uid: pod.uid, namespace: pod.namespace, name: pod.name, phase: 'Failed', reason: 'WorkerLost', message,
      ...(statuses ? lostStatuses(statuses, previous) : {}),
      notes: [{ type: 'Warning', reason: 'WorkerLost', message, at: Date.now() }],
    });
    await this.#o.reporter.flush(pod.uid);
    await moves.complete(this.#ctx, job, { phase: 'Failed', reason: 'WorkerLost', message });
  }

  /** The pod's reporter, muted where the job is no longer this pod's to report. */
  #reporterFor(entry: RunningPod): PodReporter {
    const inner = this.#o.reporter.forPod(entry.pod.uid);
    return {
      status(snapshot: PodSnapshot) {
        if (entry.mode === 'fenced') return;
        // A handed-back pod is not over: it will run elsewhere.
        if (entry.mode === 'handback' && TERMINAL.has(snapshot.phase)) return;
        inner.status(snapshot);
      },
      log: (container, record) => inner.log(container, record),
      stats: (stats) => inner.stats(stats),
    };
  }
}

function rescheduled(pod: PodJob, workerId: string): PodSnapshot {
  const message = `worker ${workerId} shut down; the pod was handed back to the queue and will run on another worker`;
  return {
    uid: pod.uid, namespace: pod.namespace, name: pod.name, phase: 'Pending', reason: 'Rescheduled', message,
    notes: [{ type: 'Normal', reason: 'Rescheduled', message, at: Date.now() }],
  };
}
