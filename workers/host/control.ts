/**
 * The host's control stream `keys.control(workerId)`, read in consumer group `worker` (so a
 * message sent while the host restarts is still delivered), every entry validated with
 * `controlMessage` (malformed → dead-letter). `stop` → `runner.stop(uid, grace)` (idempotent,
 * so a redelivered stop is harmless); `exec` → an exec bridge; `exec-input` on this stream
 * is routed to its running session as well. Handlers run in the background: a stop with a
 * 30 s grace period must not hold up the next message.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Keys } from '../../src/keys.ts';
import { controlMessage, type ControlMessage } from '../../src/schema/control.ts';
import { GroupReader } from '../../src/streams.ts';
import type { ExecSession, PodRunner } from '../pod-runner.ts';
import { applyInput, bridgeExec } from './exec-bridge.ts';

export const CONTROL_GROUP = 'worker';

/** The control stream's connections and handlers; `onStop` must not block. */
export interface ControlOptions {
  /** A connection of its own: the reader blocks on it. */
  blocking: Redis;
  /** For writes (exec output, dead-letter). */
  redis: Redis;
  keys: Keys;
  workerId: string;
  runner: Pick<PodRunner, 'stop' | 'exec'>;
  log: Logger;
  /** Told before the runner is asked to stop a pod (the host marks it as stopping). */
  onStop?(uid: string, gracePeriodSeconds: number): void;
  blockMs?: number;
}

export class ControlListener {
  readonly #o: ControlOptions;
  readonly #reader: GroupReader<ControlMessage>;
  readonly #tasks = new Set<Promise<void>>();
  readonly #sessions = new Map<string, ExecSession>();

  constructor(options: ControlOptions) {
    this.#o = options;
    this.#reader = new GroupReader({
      redis: options.blocking,
      stream: options.keys.control(options.workerId),
      group: CONTROL_GROUP,
      consumer: options.workerId,
      deadLetter: options.keys.deadLetter,
      validate: controlMessage,
      log: options.log,
      blockMs: options.blockMs ?? 1000,
      handle: async (message) => this.#dispatch(message),
    });
  }

  start(): Promise<void> {
    return this.#reader.start();
  }

  /** Stops reading, then waits for running stops and exec sessions to end. */
  async stop(): Promise<void> {
    await this.#reader.stop();
    await Promise.all(this.#tasks);
  }

  #dispatch(message: ControlMessage): void {
    const o = this.#o;
    switch (message.kind) {
      case 'stop':
        o.log.info({ uid: message.uid, grace: message.gracePeriodSeconds, reason: message.reason }, 'stop requested');
        o.onStop?.(message.uid, message.gracePeriodSeconds);
        this.#track(o.runner.stop(message.uid, message.gracePeriodSeconds));
        return;
      case 'exec':
        this.#track(bridgeExec({ ...o, onSession: (id, s) => (s ? this.#sessions.set(id, s) : this.#sessions.delete(id)) }, message));
        return;
      case 'exec-input': {
        const session = this.#sessions.get(message.sessionId);
        if (session) applyInput(session, message);
        else o.log.warn({ session: message.sessionId }, 'exec input for an unknown session dropped');
        return;
      }
    }
  }

  #track(task: Promise<void>): void {
    const t = task.catch((err) => this.#o.log.error({ err }, 'control handler failed')).finally(() => this.#tasks.delete(t));
    this.#tasks.add(t);
  }
}
