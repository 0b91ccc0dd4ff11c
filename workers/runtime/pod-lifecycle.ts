/**
 * One pod from PodJob to terminal state: sandbox, image pulls (Pulling/Pulled, ErrImagePull
 * with back-off for retryable failures), init containers in order, sidecars, app containers,
 * activeDeadlineSeconds, graceful stop, teardown — publishing a full snapshot (phase,
 * conditions, v1 container statuses, notes) whenever something visible changes.
 */
import type { PodEventNote, PodPhase } from '../../src/schema/pod-event.ts';
import { asBurstletError } from '../../src/errors.ts';
import type { ContainerSpec, PodJob } from '../../src/schema/pod-job.ts';
import type { LogRecord } from '../../src/schema/streams.ts';
import type { PodOutcome, PodReporter, PodSnapshot, RunOptions } from '../pod-runner.ts';
import { CrashBackoff } from './backoff.ts';
import { ContainerRunner, PodFailure } from './container-runner.ts';
import type { ImageInfo, ImageSource } from './image-source.ts';
import type { LifecycleTiming, PodContext } from './pod-context.ts';
import { ConditionClock, containerStatusV1, iso, podConditions, podPhase } from './pod-status.ts';
import type { RuntimeService } from './runtime-service.ts';
import type { SandboxInfo } from './sandbox.ts';
import { podLabel } from './spec/container-spec.ts';
import { StatsSampler } from './stats-sampler.ts';

const DEADLINE_MESSAGE = 'Pod was active on the node longer than the specified deadline';

export class PodLifecycle implements PodContext {
  readonly job: PodJob;
  readonly runtime: RuntimeService;
  readonly timing: LifecycleTiming;
  readonly podLabel: string;
  readonly #images: ImageSource;
  readonly #reporter: PodReporter;
  readonly #init: ContainerRunner[];
  readonly #sidecars: ContainerRunner[] = [];
  readonly #app: ContainerRunner[];
  readonly #pulled = new Map<string, Promise<ImageInfo>>();
  readonly #clock = new ConditionClock();
  #notes: PodEventNote[] = [];
  #sandbox: SandboxInfo | undefined;
  #lastSandbox: SandboxInfo | undefined;
  #ended = false;
  #initDone = false;
  #startTime = Date.now();
  #final: { phase: PodPhase; reason?: string; message?: string } | undefined;
  #stopGrace: number | undefined;
  #wake = new Set<() => void>();
  #done: Promise<PodOutcome> | undefined;
  readonly #adopt: boolean;

  /**
   * `adopt`: the pod's sandbox and containers were started by an earlier worker process;
   * `options.carried`: the pod ran on a worker that was lost, its containers continue from there.
   */
  constructor(job: PodJob, runtime: RuntimeService, images: ImageSource, timing: LifecycleTiming, reporter: PodReporter, adopt = false, options: RunOptions = {}) {
    this.#adopt = adopt;
    this.job = job;
    this.runtime = runtime;
    this.timing = timing;
    this.podLabel = podLabel(job);
    this.#images = images;
    this.#reporter = reporter;
    this.#init = (job.initContainers ?? []).map((c) => new ContainerRunner(this, c, c.restartPolicy === 'Always' ? 'sidecar' : 'init'));
    this.#app = job.containers.map((c) => new ContainerRunner(this, c, 'app'));
    for (const r of [...this.#init, ...this.#app]) {
      const carried = options.carried?.[r.spec.name];
      if (carried) r.carry(carried);
    }
  }

  /** The runtime id of container `name`'s running attempt, if any. */
  containerId(name: string): string | undefined {
    return [...this.#init, ...this.#app].find((r) => r.spec.name === name)?.currentId;
  }

  sandbox(): SandboxInfo | undefined {
    return this.#sandbox;
  }

  stopping(): boolean {
    return this.#stopGrace !== undefined;
  }

  sleep(ms: number): Promise<void> {
    if (this.stopping()) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wake.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wake.add(done);
    });
  }

  note(type: PodEventNote['type'], reason: string, message: string, container?: string): void {
    this.#notes.push({ type, reason, message, ...(container ? { container } : {}), at: Date.now() });
  }

  log(container: string, record: LogRecord): void {
    this.#reporter.log(container, record);
  }

  changed(): void {
    this.#reporter.status(this.snapshot());
  }

  /** Runs the pod to its end; never rejects. */
  run(): Promise<PodOutcome> {
    this.#done ??= this.#run();
    return this.#done;
  }

  /** Asks the pod to stop with a grace period; resolves when it is torn down. */
  async stop(graceSeconds: number): Promise<void> {
    if (!this.stopping()) {
      this.#stopGrace = graceSeconds;
      for (const wake of [...this.#wake]) wake();
      const running = [...this.#init, ...this.#sidecars, ...this.#app];
      await Promise.all(running.map((r) => r.stop(graceSeconds)));
    }
    await this.#done;
  }

  async #run(): Promise<PodOutcome> {
    const deadline = this.job.activeDeadlineSeconds ? setTimeout(() => void this.#deadline(), this.job.activeDeadlineSeconds * 1000) : undefined;
    const sampler = new StatsSampler(this.job, () => this.#sampled(), (st) => this.#reporter.stats(st));
    sampler.start(this.timing.statsIntervalMs);
    this.changed();
    try {
      // Every app container already succeeded (OnFailure, carried from a lost worker): as the
      // kubelet, no new sandbox and nothing runs; the pod is done.
      const done = !this.#adopt && this.#app.every((r) => r.completed);
      if (!done) {
        this.#sandbox = this.#adopt ? this.#adoptSandbox() : await this.runtime.runPodSandbox(this.job);
        this.#lastSandbox = this.#sandbox;
        this.changed();
        await this.#pullAll();
        if (!this.#adoptContainers()) await this.#runInit();
      }
      if (!this.stopping() && !this.#final) {
        this.#initDone = true;
        this.changed();
        await Promise.all(this.#app.map((r) => r.run()));
      }
    } catch (err) {
      this.#fail(err);
    } finally {
      clearTimeout(deadline);
      sampler.stop();
    }
    if (!this.stopping()) this.#stopGrace = 0;
    await Promise.all([...this.#sidecars, ...this.#app, ...this.#init].map((r) => r.stop(this.#stopGrace ?? 0)));
    await this.#removeSandbox();
    this.#sandbox = undefined;
    this.#final ??= { phase: this.#computePhase(true) };
    this.#ended = true;
    this.changed();
    return { phase: this.#final.phase === 'Succeeded' ? 'Succeeded' : 'Failed', ...(this.#final.reason ? { reason: this.#final.reason } : {}), ...(this.#final.message ? { message: this.#final.message } : {}) };
  }

  /**
   * Removes the pod's sandbox, trying again a few times (0.25 s doubling, ~4 s in all) as the
   * kubelet's pod workers retry their cleanup: a just-killed process can hold a cgroup or a
   * mount for a moment on a loaded host, and what fails here would otherwise stay behind.
   * removePodSandbox is idempotent: a retry takes up where the last one stopped.
   */
  async #removeSandbox(): Promise<void> {
    for (let attempt = 0, delay = 250; ; attempt++, delay *= 2) {
      try {
        return await this.runtime.removePodSandbox(this.job.uid);
      } catch (err) {
        if (attempt >= 4) return this.note('Warning', 'FailedKillPod', `error killing pod: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  #fail(err: unknown): void {
    if (err instanceof PodFailure) {
      this.#final ??= { phase: 'Failed', reason: err.reason, message: err.message };
      return;
    }
    const e = asBurstletError(err, 'RUNTIME_FAILED');
    this.note('Warning', 'Failed', e.message);
    this.#final ??= { phase: 'Failed', reason: e.reason, message: e.message };
  }

  #sampled(): { name: string; cgroup: string; startTime?: string }[] {
    return [...this.#init, ...this.#app].flatMap((r) => {
      const cgroup = r.cgroup;
      const st = r.track.state;
      return cgroup ? [{ name: r.spec.name, cgroup, ...('running' in st ? { startTime: st.running.startedAt } : {}) }] : [];
    });
  }

  #adoptSandbox(): SandboxInfo {
    const sb = this.runtime.sandbox(this.job.uid);
    if (!sb) throw new PodFailure('RuntimeError', `pod sandbox ${this.job.uid} was not found on this worker after a restart`);
    return sb;
  }

  /**
   * Hands each app container its newest container from before the restart; true when there
   * were any (init containers then count as done: they ran before the app containers did).
   */
  #adoptContainers(): boolean {
    if (!this.#adopt) return false;
    let any = false;
    for (const r of this.#app) {
      const rec = this.runtime.latestContainer(this.job.uid, r.spec.name);
      if (rec) {
        r.adopt(rec);
        any = true;
      }
    }
    if (!any) return false;
    for (const r of this.#init) r.track.state = { terminated: { exitCode: 0, reason: 'Completed' } };
    return true;
  }

  async #deadline(): Promise<void> {
    if (this.#final || this.stopping()) return;
    this.#final = { phase: 'Failed', reason: 'DeadlineExceeded', message: DEADLINE_MESSAGE };
    this.note('Warning', 'DeadlineExceeded', DEADLINE_MESSAGE);
    await this.stop(this.job.terminationGracePeriodSeconds ?? 30);
  }

  image(spec: ContainerSpec): Promise<ImageInfo> {
    let p = this.#pulled.get(spec.name);
    if (!p) {
      p = this.#pull(spec);
      this.#pulled.set(spec.name, p);
    }
    return p;
  }

  /** Pulls every image up front in container order (the kubelet pulls per container start). */
  async #pullAll(): Promise<void> {
    for (const c of [...(this.job.initContainers ?? []), ...this.job.containers]) {
      if (this.stopping()) return;
      if (this.#app.find((r) => r.spec.name === c.name)?.completed) continue; // will not run
      await this.image(c);
    }
  }

  async #pull(spec: ContainerSpec): Promise<ImageInfo> {
    const backoff = new CrashBackoff(this.timing.pullBackoff);
    const track = [...this.#init, ...this.#app].find((r) => r.spec.name === spec.name)?.track;
    const auth = this.job.imagePullCredentials?.find((c) => spec.image.startsWith(c.registry));
    for (;;) {
      try {
        return await this.#images.ensure(spec, auth, (reason, message) => this.note('Normal', reason, message, spec.name));
      } catch (err) {
        const e = asBurstletError(err, 'IMAGE_PULL_FAILED');
        // ErrImageNeverPull: the PodJob cannot change its pull policy, so waiting is pointless.
        const reason = typeof e.details.reason === 'string' ? e.details.reason : e.reason;
        this.note('Warning', reason === 'ErrImageNeverPull' ? reason : 'Failed', `Failed to pull image "${spec.image}": ${e.message}`, spec.name);
        if (track) track.state = { waiting: { reason, message: e.message } };
        this.changed();
        if (!e.retryable || reason === 'ErrImageNeverPull' || this.stopping()) throw new PodFailure(reason, e.message);
        const delay = Math.max(backoff.next(0), this.timing.pullBackoff.baseMs);
        if (track) track.state = { waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${spec.image}"` } };
        this.note('Normal', 'BackOff', `Back-off pulling image "${spec.image}"`, spec.name);
        this.changed();
        await this.sleep(delay);
        if (this.stopping()) throw new PodFailure(e.reason, e.message);
      }
    }
  }

  async #runInit(): Promise<void> {
    for (const r of this.#init) {
      if (this.stopping() || this.#final) return;
      if (r.track.sidecar) {
        this.#sidecars.push(r);
        void r.run().catch((err) => this.#fail(err));
        await r.firstStart;
        continue;
      }
      const code = await r.run();
      if (code !== 0) {
        if (!this.stopping()) this.#final ??= { phase: 'Failed' };
        return;
      }
    }
  }

  #computePhase(ended: boolean): PodPhase {
    const init = this.#init.map((r) => r.track);
    const app = this.#app.map((r) => r.track);
    if (ended) {
      const ran = app.filter((t) => 'terminated' in t.state);
      if (!this.#initDone || ran.length < app.length) return 'Failed';
      return ran.every((t) => 'terminated' in t.state && t.state.terminated.exitCode === 0) ? 'Succeeded' : 'Failed';
    }
    return podPhase(init, app, this.#initDone);
  }

  /** The pod's full current state; notes are handed out once. */
  snapshot(): PodSnapshot {
    const init = this.#init.map((r) => r.track);
    const app = this.#app.map((r) => r.track);
    const final = this.#ended ? this.#final : undefined;
    const phase = final ? final.phase : this.#computePhase(false);
    const notes = this.#notes;
    this.#notes = [];
    const sb = this.#lastSandbox;
    const sandboxReady = this.#sandbox !== undefined;
    return {
      uid: this.job.uid, namespace: this.job.namespace, name: this.job.name, phase,
      ...(final?.reason ? { reason: final.reason } : {}),
      ...(final?.message ? { message: final.message } : {}),
      ...(sb ? { hostIP: sb.hostIP } : {}),
      ...(sb?.podIP ? { podIP: sb.podIP, podIPs: [{ ip: sb.podIP }] } : {}),
      startTime: iso(this.#startTime),
      conditions: this.#clock.stamp(podConditions({ sandboxReady, initDone: this.#initDone, phase, init, app }), Date.now()),
      initContainerStatuses: init.map(containerStatusV1),
      containerStatuses: app.map(containerStatusV1),
      ...(notes.length ? { notes } : {}),
    };
  }
}
