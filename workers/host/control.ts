/**
 * The host's control stream `keys.control(workerId)`, read in consumer group `worker` (so a
 * message sent while the host restarts is still delivered), every entry validated with
 * `controlMessage` (malformed → dead-letter). `stop` → `runner.stop(uid, grace)` (idempotent,
 * so a redelivered stop is harmless); `exec` → an exec bridge; `exec-input` on this stream
 * is routed to its running session as well; `token` replaces a service-account token file
 * in the pod's volume (workers/runtime/volume-file.ts) — only for a pod this host runs, and
 * when its volumes are not set up yet (just claimed), once they are. Handlers run in the
 * background: a stop with a 30 s grace period must not hold up the next message.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Keys } from '../../src/keys.ts';
import { controlMessage, type ControlMessage, type TokenRefresh } from '../../src/schema/control.ts';
import { GroupReader } from '../../src/streams.ts';
import type { ExecSession, PodRunner } from '../pod-runner.ts';
import { replaceVolumeFile } from '../runtime/volume-file.ts';
import { volumeDir } from '../runtime/volumes.ts';
import { applyInput, bridgeExec } from './exec-bridge.ts';

export const CONTROL_GROUP = 'worker';

const POD_UID = /^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/;

/** The control stream's connections and handlers; `onStop` must not block. */
export interface ControlOptions {
  /** A connection of its own: the reader blocks on it. */
  blocking: Redis;
  /** For writes (exec output, dead-letter). */
  redis: Redis;
  keys: Keys;
  workerId: string;
  runner: Pick<PodRunner, 'stop' | 'exec' | 'list'>;
  log: Logger;
  /** Told before the runner is asked to stop a pod (the host marks it as stopping). */
  onStop?(uid: string, gracePeriodSeconds: number): void;
  /** The pod's directory on this host (volumes under it); without it `token` is refused. */
  podDir?(uid: string): string;
  /** How long a token waits for the pod's volume to be set up (default 120 s), and how often it looks. */
  tokenWaitMs?: number;
  tokenPollMs?: number;
  blockMs?: number;
}

export class ControlListener {
  readonly #o: ControlOptions;
  readonly #reader: GroupReader<ControlMessage>;
  readonly #tasks = new Set<Promise<void>>();
  readonly #sessions = new Map<string, ExecSession>();
  // Per pod: the token writes in order (a newer token never overtaken by an older one).
  readonly #tokenChains = new Map<string, Promise<void>>();
  // Per file: the expiry of the token written last.
  readonly #written = new Map<string, number>();
  #stopped = false;

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
    this.#stopped = true;
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
      case 'token': {
        const chain = (this.#tokenChains.get(message.uid) ?? Promise.resolve()).then(() => this.#writeToken(message));
        const tail = chain.catch(() => undefined).finally(() => this.#tokenChains.get(message.uid) === tail && this.#tokenChains.delete(message.uid));
        this.#tokenChains.set(message.uid, tail);
        this.#track(chain);
        return;
      }
    }
  }

  async #writeToken(m: TokenRefresh): Promise<void> {
    const o = this.#o;
    const at = { uid: m.uid, volume: m.volume, path: m.path };
    if (!o.podDir) return void o.log.warn(at, 'token refresh refused: this host has no pod volumes');
    // The uid names a directory: nothing that could climb out of the pods' root.
    if (!POD_UID.test(m.uid)) return void o.log.warn(at, 'token refresh refused: invalid pod uid');
    const fileKey = `${m.uid}\0${m.volume}\0${m.path}`;
    const dir = volumeDir(o.podDir(m.uid), m.volume);
    const deadline = Date.now() + (o.tokenWaitMs ?? 120_000);
    for (;;) {
      // Only pods this host runs (a directory left by an earlier run is not one).
      if (!o.runner.list().includes(m.uid)) return void o.log.warn(at, 'token refresh for a pod this host does not run dropped');
      if ((this.#written.get(fileKey) ?? -1) >= m.expiresAt) return void o.log.debug(at, 'token refresh older than the token written; skipped');
      const result = await replaceVolumeFile(dir, m.path, Buffer.from(m.token));
      if (result === 'written') {
        this.#prune();
        this.#written.set(fileKey, m.expiresAt);
        return void o.log.info({ ...at, expiresAt: new Date(m.expiresAt).toISOString() }, 'service-account token refreshed');
      }
      // Not there yet: a pod just claimed has no volumes until its sandbox is set up.
      if (this.#stopped || Date.now() > deadline) return void o.log.warn(at, 'token refresh dropped: the volume file did not appear');
      await new Promise((r) => setTimeout(r, o.tokenPollMs ?? 250));
    }
  }

  // Expiries of pods this host no longer runs go.
  #prune(): void {
    const running = new Set(this.#o.runner.list());
    for (const k of this.#written.keys()) if (!running.has(k.slice(0, k.indexOf('\0')))) this.#written.delete(k);
  }

  #track(task: Promise<void>): void {
    const t = task.catch((err) => this.#o.log.error({ err }, 'control handler failed')).finally(() => this.#tasks.delete(t));
    this.#tasks.add(t);
  }
}
