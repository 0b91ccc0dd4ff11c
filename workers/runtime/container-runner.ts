/**
 * One container of a pod through its whole life, the kubelet way: create → start →
 * postStart → probes (startup, then liveness and readiness) → exit → terminated status
 * with reason and termination message → restart by policy after CrashLoopBackOff, or done.
 * `stop` runs preStop and then the graceful stop (STOPSIGNAL/SIGTERM, grace, SIGKILL).
 */
import type { ContainerSpec } from '../../src/schema/pod-job.ts';
import type { CarriedContainer } from '../pod-runner.ts';
import { BurstletError } from '../../src/errors.ts';
import { CrashBackoff } from './backoff.ts';
import { containerCgroupIn } from './cgroups.ts';
import type { ContainerRecord, CriContainerStatus } from './container-status.ts';
import type { PodContext } from './pod-context.ts';
import { iso, type ContainerStateV1, type ContainerTrack } from './pod-status.ts';
import { LogFollower } from './log-follower.ts';
import { Prober, runHandler, type Handler, type HandlerTarget, type ProbeSpec } from './probes.ts';
import { readFile } from 'node:fs/promises';

type Policy = 'Always' | 'OnFailure' | 'Never';

const FALLBACK_LINES = 80;
const FALLBACK_BYTES = 2048;

/** A failure that ends the pod (the PodJob cannot change, so retrying would not help). */
export class PodFailure extends Error {
  readonly reason: string;
  constructor(reason: string, message: string) {
    super(message);
    this.reason = reason;
  }
}

export class ContainerRunner {
  readonly track: ContainerTrack;
  readonly spec: ContainerSpec;
  readonly #ctx: PodContext;
  readonly #policy: Policy;
  #id: string | undefined;
  #attempt = 0;
  #firstAttempt = 0;
  #adopted: ContainerRecord | undefined;
  #completed = false;
  #probers: Prober[] = [];
  #started!: () => void;
  /** Resolves once the container ran for the first time (sidecars gate later init containers). */
  readonly firstStart = new Promise<void>((r) => (this.#started = r));

  constructor(ctx: PodContext, spec: ContainerSpec, kind: 'init' | 'sidecar' | 'app') {
    this.#ctx = ctx;
    this.spec = spec;
    const pod = ctx.job.restartPolicy;
    this.#policy = kind === 'sidecar' ? 'Always' : kind === 'init' ? (pod === 'Never' ? 'Never' : 'OnFailure') : pod;
    this.track = {
      name: spec.name, init: kind !== 'app', sidecar: kind === 'sidecar', image: spec.image, restartCount: 0,
      state: { waiting: { reason: kind === 'app' && (ctx.job.initContainers?.length ?? 0) > 0 ? 'PodInitializing' : 'ContainerCreating' } },
      ready: false, started: false, willRestart: false,
    };
  }

  get currentId(): string | undefined {
    return this.#id;
  }

  /** The running attempt's cgroup (for stats), if it runs. */
  get cgroup(): string | undefined {
    const sandbox = this.#ctx.sandbox();
    return sandbox && this.#id && 'running' in this.track.state ? containerCgroupIn(sandbox, this.spec.name, this.#attempt) : undefined;
  }

  /**
   * Continues from the pod's run on a worker that was lost (before `run`): the count and
   * lastState it showed there; its attempts (container ids, log attempts) go on from the count.
   */
  carry(c: CarriedContainer): void {
    this.track.restartCount = c.restartCount;
    this.#firstAttempt = c.restartCount;
    // A v1.ContainerState as a worker published it (see workers/host/lost-pod.ts).
    if (c.lastState) this.track.lastState = c.lastState as ContainerStateV1;
    if (c.completed) {
      this.#completed = true;
      this.track.state = { terminated: c.completed } as ContainerStateV1;
    }
  }

  /** Succeeded on a lost worker under OnFailure (carry): not run again. */
  get completed(): boolean {
    return this.#completed;
  }

  /** Takes over a container an earlier worker process started (before `run`). */
  adopt(rec: ContainerRecord): void {
    this.#adopted = rec;
    this.track.restartCount = rec.attempt;
  }

  /** Runs until the container is terminated for good or the pod stops; returns the last exit code. */
  async run(): Promise<number | undefined> {
    if (this.#completed) {
      this.#started();
      return 0;
    }
    const backoff = new CrashBackoff(this.#ctx.timing.backoff);
    let last: number | undefined;
    for (let attempt = this.#adopted?.attempt ?? this.#firstAttempt; !this.#ctx.stopping(); attempt++) {
      const st = await this.#runOnce(attempt);
      if (!st) return last;
      last = st.exitCode;
      const restart = !this.#ctx.stopping() && (this.#policy === 'Always' || (this.#policy === 'OnFailure' && st.exitCode !== 0));
      this.track.willRestart = restart;
      this.#ctx.changed();
      if (!restart) return last;
      const delay = backoff.next((st.finishedAt ?? 0) - (st.startedAt ?? 0));
      this.track.lastState = this.track.state;
      if (delay > 0) {
        this.track.state = { waiting: { reason: 'CrashLoopBackOff', message: `back-off ${Math.round(delay / 1000)}s restarting failed container=${this.spec.name} pod=${this.#ctx.podLabel}` } };
        this.#ctx.note('Warning', 'BackOff', `Back-off restarting failed container ${this.spec.name} in pod ${this.#ctx.podLabel}`, this.spec.name);
        this.#ctx.changed();
        await this.#ctx.sleep(delay);
      }
      if (this.#ctx.stopping()) return last;
      this.track.restartCount++;
    }
    return last;
  }

  /** One attempt: create, start, watch, record the terminated state. Undefined if never started. */
  async #runOnce(attempt: number): Promise<CriContainerStatus | undefined> {
    const { runtime } = this.#ctx;
    const image = await this.#ctx.image(this.spec);
    this.track.imageID = image.imageId;
    if (this.#ctx.stopping()) return undefined;
    const adopted = this.#adopted;
    this.#adopted = undefined;
    if (adopted) return this.#watch(adopted.id, attempt, true);
    try {
      this.#id = await runtime.createContainer(this.#ctx.job.uid, this.spec, image, attempt);
    } catch (err) {
      const e = err instanceof BurstletError ? err : new BurstletError('CONTAINER_CREATE', (err as Error).message);
      this.track.state = { waiting: { reason: e.reason, message: e.message } };
      this.#ctx.note('Warning', 'Failed', `Error: ${e.message}`, this.spec.name);
      throw new PodFailure(e.reason, e.message);
    }
    this.#ctx.note('Normal', 'Created', `Created container ${this.spec.name}`, this.spec.name);
    return this.#watch(this.#id, attempt, false);
  }

  /** Starts (unless adopted) and follows one attempt until it exits; records its end. */
  async #watch(id: string, attempt: number, adopted: boolean): Promise<CriContainerStatus> {
    const { runtime } = this.#ctx;
    this.#id = id;
    this.#attempt = attempt;
    const st0 = await runtime.containerStatus(id);
    const follower = new LogFollower(st0.logPath, attempt, (r) => this.#ctx.log(this.spec.name, r), `${st0.logPath}.sent`, adopted);
    follower.start();
    if (!adopted) await runtime.startContainer(id);
    const running = await runtime.containerStatus(id);
    if (this.#ctx.stopping()) {
      // The pod began stopping while this attempt was being created: stop() found nothing to stop.
      await runtime.stopContainer(id, this.#ctx.job.terminationGracePeriodSeconds ?? 30);
    } else if (running.state === 'CONTAINER_EXITED' && running.reason !== 'StartError' && !adopted) {
      // Started and already done (a quick init container): the kubelet records Started on a
      // successful StartContainer whatever the container did since.
      this.#ctx.note('Normal', 'Started', `Started container ${this.spec.name}`, this.spec.name);
    } else if (running.state === 'CONTAINER_RUNNING') {
      this.track.state = { running: { startedAt: iso(running.startedAt ?? Date.now()) } };
      this.track.containerID = id;
      if (!adopted) this.#ctx.note('Normal', 'Started', `Started container ${this.spec.name}`, this.spec.name);
      if (!adopted) await this.#postStart(id);
      this.#startProbes(id);
      this.#started();
      this.#ctx.changed();
    }
    const st = await runtime.waitContainer(id);
    this.#stopProbes();
    await follower.stop();
    this.track.containerID = id;
    this.track.state = await this.#terminated(id, st);
    this.track.ready = false;
    this.track.started = false;
    if (st.reason === 'StartError') this.#ctx.note('Warning', 'Failed', `Error: ${st.message ?? 'failed to start'}`, this.spec.name);
    await runtime.removeContainer(id);
    this.#id = undefined;
    this.#started();
    return st;
  }

  async #terminated(id: string, st: CriContainerStatus): Promise<ContainerStateV1> {
    let message = st.message ?? (await this.#ctx.runtime.terminationMessage(id).catch(() => ''));
    if (!message && st.exitCode !== 0 && this.spec.terminationMessagePolicy === 'FallbackToLogsOnError') {
      message = await tailLog(st.logPath);
    }
    return {
      terminated: {
        exitCode: st.exitCode ?? 0, ...(st.signal ? { signal: st.signal } : {}), reason: st.reason ?? 'Error',
        ...(message ? { message } : {}),
        ...(st.startedAt ? { startedAt: iso(st.startedAt) } : {}), ...(st.finishedAt ? { finishedAt: iso(st.finishedAt) } : {}),
        containerID: `burstlet://${id}`,
      },
    };
  }

  #target(id: string): HandlerTarget {
    const sb = this.#ctx.sandbox();
    return {
      exec: async (cmd, timeout) => {
        const r = await this.#ctx.runtime.execSync(id, cmd, timeout);
        return { exitCode: r.exitCode, timedOut: r.timedOut, output: `${r.stdout}${r.stderr}` };
      },
      netns: sb?.namespaces.network === 'host' ? undefined : sb?.namespaces.network,
      host: sb?.namespaces.network === 'host' ? (sb.podIP ?? '127.0.0.1') : '127.0.0.1',
      ports: this.spec.ports ?? [],
    };
  }

  async #postStart(id: string): Promise<void> {
    const hook = (this.spec.lifecycle as { postStart?: Handler } | undefined)?.postStart;
    if (!hook) return;
    const r = await runHandler(hook, this.#target(id), this.#ctx.job.terminationGracePeriodSeconds ?? 30);
    if (r.ok) return;
    this.#ctx.note('Warning', 'FailedPostStartHook', `PostStartHook failed: ${r.message}`, this.spec.name);
    await this.#ctx.runtime.stopContainer(id, this.#ctx.job.terminationGracePeriodSeconds ?? 30);
  }

  #startProbes(id: string): void {
    const target = this.#target(id);
    const p = this.spec as { startupProbe?: ProbeSpec; livenessProbe?: ProbeSpec; readinessProbe?: ProbeSpec };
    const unhealthy = (kind: string) => (msg: string) => this.#ctx.note('Warning', 'Unhealthy', `${kind} probe failed: ${msg}`, this.spec.name);
    const others = () => {
      this.track.started = true;
      if (!p.readinessProbe) this.track.ready = true;
      this.#ctx.changed();
      if (p.livenessProbe) this.#add(p.livenessProbe, target, (ok, msg) => !ok && void this.#kill(id, 'liveness', msg), unhealthy('Liveness'));
      if (p.readinessProbe) {
        this.#add(p.readinessProbe, target, (ok) => {
          this.track.ready = ok;
          this.#ctx.changed();
        }, unhealthy('Readiness'));
      }
    };
    if (!p.startupProbe) return others();
    this.#add(p.startupProbe, target, (ok, msg) => (ok ? others() : void this.#kill(id, 'startup', msg)), unhealthy('Startup'));
  }

  #add(spec: ProbeSpec, target: HandlerTarget, onChange: (ok: boolean, msg: string) => void, onFailure: (msg: string) => void): void {
    const prober = new Prober(spec, target, onChange, onFailure);
    this.#probers.push(prober);
    prober.start();
  }

  #stopProbes(): void {
    for (const p of this.#probers) p.stop();
    this.#probers = [];
  }

  async #kill(id: string, kind: string, msg: string): Promise<void> {
    this.#stopProbes();
    this.#ctx.note('Normal', 'Killing', `Container ${this.spec.name} failed ${kind} probe, will be restarted: ${msg}`, this.spec.name);
    await this.#preStop(id, this.#ctx.job.terminationGracePeriodSeconds ?? 30);
    await this.#ctx.runtime.stopContainer(id, this.#ctx.job.terminationGracePeriodSeconds ?? 30).catch(() => undefined);
  }

  async #preStop(id: string, budgetSeconds: number): Promise<number> {
    const hook = (this.spec.lifecycle as { preStop?: Handler } | undefined)?.preStop;
    if (!hook || budgetSeconds <= 0) return budgetSeconds;
    const started = Date.now();
    const r = await runHandler(hook, this.#target(id), budgetSeconds);
    if (!r.ok) this.#ctx.note('Warning', 'FailedPreStopHook', `PreStopHook failed: ${r.message}`, this.spec.name);
    return Math.max(0, budgetSeconds - (Date.now() - started) / 1000);
  }

  /** Graceful stop of the running attempt, if any: preStop, stop signal, grace, SIGKILL. */
  async stop(graceSeconds: number): Promise<void> {
    const id = this.#id;
    if (!id || !('running' in this.track.state)) return;
    this.#stopProbes();
    this.#ctx.note('Normal', 'Killing', `Stopping container ${this.spec.name}`, this.spec.name);
    const left = await this.#preStop(id, graceSeconds);
    await this.#ctx.runtime.stopContainer(id, Math.ceil(left)).catch(() => undefined);
  }
}

/** The last lines of a CRI log, as FallbackToLogsOnError reports them. */
async function tailLog(path: string): Promise<string> {
  const text = await readFile(path, 'utf8').catch(() => '');
  const lines = text.split('\n').filter(Boolean).slice(-FALLBACK_LINES).map((l) => l.split(' ').slice(3).join(' '));
  const out = lines.join('\n');
  return out.length > FALLBACK_BYTES ? out.slice(-FALLBACK_BYTES) : out;
}
