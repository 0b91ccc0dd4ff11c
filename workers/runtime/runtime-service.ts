/**
 * RuntimeService in CRI's shape (runPodSandbox, stopPodSandbox, removePodSandbox,
 * createContainer, startContainer, stopContainer, removeContainer, containerStatus,
 * listContainers, execSync, exec) over an Executor, an ImageSource and the host's mounts.
 * A CRI gRPC endpoint would be a thin adapter. User-caused problems surface as
 * BurstletErrors with a Kubernetes reason; every step undoes itself when it fails.
 *
 * Layout: `<runRoot>/pods/<uid>/` holds what lives only as long as the pod and no container
 * writes (pod.json, the sandbox's pause bundle, `containers/<name>-<attempt>/` with the
 * bundle, mounted rootfs and record.json); `<root>/pods/<uid>/` holds what containers write,
 * on disk: the /etc files (hosts, resolv.conf, hostname), volumes, `logs/<name>/<attempt>.log`
 * (CRI logs) and `<attempt>.termination-log` beside it, kept until the pod is removed.
 * The worker's runRoot is a tmpfs (run-dir.ts); without one both are the same directory.
 * With one, a removed pod's data dir is not deleted but kept in `<root>/pods-spare/` for the
 * next pod (its /etc files overwritten in place, its log files truncated for containers of the
 * same names, its volumes gone): see spare-dirs.ts.
 */
// The pod's and containers' own files (pod.json, bundle, records, /etc files) are written in
// one native call per step (FileBatch) and removed in one (removeTree, which never crosses a
// mount), both on a pool thread: not one round trip or blocking syscall per file.
import { closeSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { BurstletError } from '../../src/errors.ts';
import type { ContainerSpec, PodJob } from '../../src/schema/pod-job.ts';
import type { ExecOptions, ExecProcess, Executor, ExecutorState } from '../executor/executor.ts';
import { FileBatch } from '../executor/file-batch.ts';
import { SpareDirs } from '../executor/spare-dirs.ts';
import { containerCgroupIn, removePodCgroups } from './cgroups.ts';
import { parseStopSignal, toCriStatus, type ContainerRecord, type CriContainerStatus } from './container-status.ts';
import type { ImageInfo, ImageSource } from './image-source.ts';
import { isBind, mountAt, mountOptions, type MountSpec } from './mounts.ts';
import { detachNetwork, ETC_FILES, removeSandbox, runSandbox, type SandboxInfo, type SandboxNetwork } from './sandbox.ts';
import { containerSpec } from './spec/container-spec.ts';
import { bindMount } from './spec/linux.ts';
import { cleanupPodVolumes, containerVolumeMounts, preparePodVolumes, type PodVolume } from './volumes.ts';

export interface RuntimeServiceOptions {
  root: string;
  /** Where the pods' short-lived files go (default `root`): the worker's tmpfs run directory. */
  runRoot?: string;
  executor: Executor;
  images: ImageSource;
  network: SandboxNetwork;
  allowPrivileged?: boolean;
  allowHostPath?: boolean;
}

/** `dir`: the pod's run directory; `dataDir`: what its containers write (the same without a runRoot). */
interface PodEntry { job: PodJob; sandbox: SandboxInfo; volumes: PodVolume[]; dir: string; dataDir?: string }

export interface ExecSyncResult { stdout: Buffer; stderr: Buffer; exitCode: number; timedOut: boolean }

const DEFAULT_TERMINATION_PATH = '/dev/termination-log';
const TERMINATION_MESSAGE_MAX = 4096;

const readdirOr = (dir: string): string[] => {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
};

function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

export class RuntimeService {
  readonly #o: RuntimeServiceOptions;
  readonly #pods = new Map<string, PodEntry>();
  readonly #containers = new Map<string, ContainerRecord>();

  /** Pods without a pause process whose one container (and so their cgroup) the executor deleted. */
  readonly #cgroupGone = new Set<string>();
  /** Pods' data dirs kept for reuse (spare-dirs.ts); only where they are apart from the run dirs. */
  readonly #dataSpares: SpareDirs | undefined;

  constructor(options: RuntimeServiceOptions) {
    this.#o = options;
    if (options.runRoot !== undefined) this.#dataSpares = new SpareDirs(join(options.root, 'pods-spare'));
  }

  get executor(): Executor {
    return this.#o.executor;
  }

  /** The pod's run directory (sandbox, bundles). */
  podDir(uid: string): string {
    return join(this.#o.runRoot ?? this.#o.root, 'pods', validUid(uid));
  }

  /** The pod's data directory on disk (volumes, logs, /etc files, termination messages). */
  podDataDir(uid: string): string {
    return join(this.#o.root, 'pods', validUid(uid));
  }

  sandbox(uid: string): SandboxInfo | undefined {
    return this.#pods.get(uid)?.sandbox;
  }

  /** Creates the pod's directory, volumes and pause sandbox. Undone completely on failure. */
  async runPodSandbox(job: PodJob): Promise<SandboxInfo> {
    if (this.#pods.has(job.uid)) return this.#pods.get(job.uid)!.sandbox;
    const dir = this.podDir(job.uid);
    const dataDir = this.podDataDir(job.uid);
    let volumes: PodVolume[] = [];
    try {
      // The data dir is a spare one when there is one (with the /etc files' blocks to reuse);
      // made in the sandbox's batch unless volumes need it first.
      const first = new FileBatch();
      if (this.#dataSpares) this.#dataSpares.take(first, dataDir);
      if (job.volumes?.length && !first.empty) await first.commit();
      volumes = await preparePodVolumes(job.volumes ?? [], dataDir, { allowHostPath: this.#o.allowHostPath === true });
      // pod.json goes with the sandbox's /etc files (runSandbox makes the pod dir): one native call.
      const podJson = (sandbox: SandboxInfo) => [{ path: join(dir, 'pod.json'), text: JSON.stringify({ job, sandbox, volumes, dir, dataDir } satisfies PodEntry) }];
      const sandbox = await runSandbox(this.#o.executor, this.#o.root, job, dir, this.#o.network, podJson, dataDir, job.volumes?.length ? new FileBatch() : first);
      this.#pods.set(job.uid, { job, sandbox, volumes, dir, dataDir });
      return sandbox;
    } catch (err) {
      const pause = await this.#o.executor.state(`${job.uid}_pause`).catch(() => undefined);
      if (pause?.pid) await detachNetwork(this.#o.network, job, { cni: true, pausePid: pause.pid }).catch(() => undefined);
      await removeSandbox(this.#o.executor, job.uid).catch(() => undefined);
      await cleanupPodVolumes(dataDir, volumes).catch(() => undefined);
      await removePodCgroups(job.uid);
      await this.#removePodDirs(job.uid);
      throw err;
    }
  }

  /** Kills every container of the pod, detaches its network, kills the pause process (idempotent). */
  async stopPodSandbox(uid: string): Promise<void> {
    for (const c of await this.listContainers({ podUid: uid })) {
      if (c.state === 'CONTAINER_RUNNING') await this.stopContainer(c.id, 0);
    }
    const pod = this.#pods.get(uid);
    if (pod) await detachNetwork(this.#o.network, pod.job, pod.sandbox);
    if (this.#hasPause(uid)) await this.#o.executor.kill(`${uid}_pause`, 'SIGKILL');
  }

  /** False only for a known pod that runs without a pause process (sandbox.ts needsPause). */
  #hasPause(uid: string): boolean {
    return this.#pods.get(uid)?.sandbox.pauseId !== '';
  }

  /** Removes containers, sandbox, volumes, cgroups and the pod's directory (idempotent). */
  async removePodSandbox(uid: string): Promise<void> {
    await this.stopPodSandbox(uid);
    for (const c of await this.listContainers({ podUid: uid })) await this.removeContainer(c.id);
    if (this.#hasPause(uid)) await removeSandbox(this.#o.executor, uid);
    const pod = this.#pods.get(uid);
    await cleanupPodVolumes(pod?.dataDir ?? pod?.dir ?? this.podDataDir(uid), pod?.volumes ?? []);
    // A pod without a pause process whose container the executor deleted has no cgroup left:
    // it was that container's own (containerCgroupIn). Looking in every hierarchy anyway cost
    // the main thread ~0.2 ms a pod of negative cgroupfs lookups.
    if (!this.#cgroupGone.delete(uid)) await removePodCgroups(uid);
    await this.#removePodDirs(uid);
    this.#pods.delete(uid);
  }

  async #removePodDirs(uid: string): Promise<void> {
    const batch = new FileBatch().removeTree(this.podDir(uid));
    if (this.#dataSpares) this.#dataSpares.give(batch, this.podDataDir(uid), [...ETC_FILES, 'logs/']);
    else if (this.#o.runRoot !== undefined) batch.removeTree(this.podDataDir(uid));
    await batch.commit();
  }

  /** Writes the bundle (rootfs mounted, spec built) and creates the container; returns its id. */
  async createContainer(uid: string, container: ContainerSpec, image: ImageInfo, attempt: number): Promise<string> {
    const pod = this.#pods.get(uid);
    if (!pod) throw new BurstletError('NOT_FOUND', `pod sandbox ${uid} does not exist`);
    const id = `${uid}_${container.name}_${attempt}`;
    const bundle = join(pod.dir, 'containers', `${container.name}-${attempt}`);
    const rootfs = join(bundle, 'rootfs');
    const dataDir = pod.dataDir ?? pod.dir;
    const logPath = join(dataDir, 'logs', container.name, `${attempt}.log`);
    const rec: ContainerRecord = {
      id, podUid: uid, name: container.name, attempt, image: image.image, imageId: image.imageId, createdAt: Date.now(),
      logPath, bundle, rootfs, stopSignal: parseStopSignal(image.config.stopSignal), terminationLog: join(dataDir, 'logs', container.name, `${attempt}.termination-log`),
    };
    // The bundle's dirs and files, the writable layer's dirs and the rootfs mount go in one
    // native call (binds, which need a remount to be read-only, are mounted after it).
    // The termination log may be one a recycled data dir kept (truncated): overwrite() resets it.
    const batch = new FileBatch().dir(rootfs).dir(join(dataDir, 'logs', container.name)).overwrite(rec.terminationLog, '', 0o666);
    try {
      const binds: MountSpec[] = [];
      for (const m of await this.#o.images.prepareRootfs(id, image, batch)) {
        if (isBind(m)) binds.push(m);
        else batch.mount(rootfs, { type: m.type, source: m.source, ...mountOptions(m.options) });
      }
      const spec = containerSpec({
        job: pod.job, container, image: image.config, rootfs, imageId: image.imageId, namespaces: pod.sandbox.namespaces,
        mounts: [
          ...pod.sandbox.etcMounts,
          ...(await containerVolumeMounts(container, pod.volumes)),
          bindMount(rec.terminationLog, container.terminationMessagePath || DEFAULT_TERMINATION_PATH),
        ],
        cgroupsPath: containerCgroupIn(pod.sandbox, container.name, attempt),
        fields: { podIP: pod.sandbox.podIP, hostIP: pod.sandbox.hostIP },
        allowPrivileged: this.#o.allowPrivileged === true,
      });
      await batch.file(join(bundle, 'config.json'), JSON.stringify(spec)).file(join(bundle, 'record.json'), JSON.stringify(rec)).commit()
        .catch((err: Error) => {
          throw new BurstletError('CONTAINER_CREATE', `container ${container.name}: ${err.message}`, { cause: err });
        });
      for (const m of binds) await mountAt(m, rootfs);
      await this.#o.executor.create(id, bundle, { logPath });
    } catch (err) {
      await this.#teardown(rec);
      throw err;
    }
    this.#containers.set(id, rec);
    return id;
  }

  /** Unmounts the rootfs, drops the writable layer and the bundle: one native call. */
  async #teardown(rec: ContainerRecord): Promise<void> {
    const batch = new FileBatch().unmountAll(rec.rootfs);
    await this.#o.images.releaseRootfs(rec.id, batch);
    await batch.removeTree(rec.bundle).commit();
  }

  async #record(id: string): Promise<ContainerRecord> {
    const known = this.#containers.get(id);
    if (known) return known;
    throw new BurstletError('NOT_FOUND', `container ${id} does not exist`);
  }

  async startContainer(id: string): Promise<void> {
    await this.#record(id);
    await this.#o.executor.start(id);
  }

  /** Resolves when the container has exited (not in CRI; CRI runtimes stream events instead). */
  async waitContainer(id: string): Promise<CriContainerStatus> {
    const rec = await this.#record(id);
    return toCriStatus(rec, await this.#o.executor.wait(id));
  }

  /** Stop signal (image STOPSIGNAL or SIGTERM), up to `timeoutSeconds`, then SIGKILL. */
  async stopContainer(id: string, timeoutSeconds: number, signal?: NodeJS.Signals): Promise<void> {
    const rec = await this.#record(id);
    const ex = this.#o.executor;
    if ((await ex.state(id))?.status !== 'running') return;
    if (timeoutSeconds > 0) {
      await ex.kill(id, signal ?? rec.stopSignal);
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        this.#exited(id).then(() => false),
        new Promise<boolean>((r) => (timer = setTimeout(() => r(true), timeoutSeconds * 1000))),
      ]);
      clearTimeout(timer);
      if (!timedOut) return;
    }
    await ex.kill(id, 'SIGKILL');
    await this.#exited(id);
  }

  /** The executor's wait; a container removed meanwhile (its runner saw the exit first) has exited too. */
  async #exited(id: string): Promise<void> {
    await this.#o.executor.wait(id).catch((err: unknown) => {
      if (!(err instanceof BurstletError && err.code === 'NOT_FOUND')) throw err;
    });
  }

  /** Deletes the container and its rootfs; its log stays until the pod goes. Idempotent. */
  async removeContainer(id: string): Promise<void> {
    const rec = this.#containers.get(id);
    if (!rec) return;
    await this.#o.executor.delete(id);
    // The executor removes the container's cgroup with it (waiting for exiting tasks); without
    // a pause process that cgroup is the pod's.
    if (this.#pods.get(rec.podUid)?.sandbox.pauseId === '') this.#cgroupGone.add(rec.podUid);
    await this.#teardown(rec);
    this.#containers.delete(id);
  }

  async containerStatus(id: string): Promise<CriContainerStatus> {
    const rec = await this.#record(id);
    return toCriStatus(rec, await this.#o.executor.state(id));
  }

  /**
   * Termination message written by the container (first 4 KiB, as the kubelet reads it).
   * Read synchronously (at most 4 KiB): fs/promises' readFile took four pool round trips
   * and read the whole file. The file is on disk beside the container's log, as the
   * kubelet keeps it, not in the run directory: a container filling it must not fill the
   * tmpfs every pod's bundle needs.
   */
  async terminationMessage(id: string): Promise<string> {
    const rec = await this.#record(id);
    let fd: number | undefined;
    try {
      fd = openSync(rec.terminationLog, 'r');
      const buf = Buffer.alloc(TERMINATION_MESSAGE_MAX);
      const n = readSync(fd, buf, 0, buf.length, 0);
      return buf.toString('utf8', 0, n).slice(0, TERMINATION_MESSAGE_MAX);
    } catch {
      return '';
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  async listContainers(filter: { podUid?: string } = {}): Promise<CriContainerStatus[]> {
    const out: CriContainerStatus[] = [];
    for (const rec of this.#containers.values()) {
      if (filter.podUid && rec.podUid !== filter.podUid) continue;
      out.push(toCriStatus(rec, await this.#o.executor.state(rec.id)));
    }
    return out;
  }

  /** Runs a command to completion (probes, hooks); killed after `timeoutSeconds`. */
  async execSync(id: string, cmd: string[], timeoutSeconds: number): Promise<ExecSyncResult> {
    const p = await this.exec(id, cmd);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    p.stdout.on('data', (d: Buffer) => out.push(d));
    p.stderr.on('data', (d: Buffer) => err.push(d));
    p.stdin.end();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      p.kill('SIGKILL');
    }, Math.max(1, timeoutSeconds) * 1000);
    const exitCode = await p.exited;
    clearTimeout(timer);
    return { stdout: Buffer.concat(out), stderr: Buffer.concat(err), exitCode, timedOut };
  }

  async exec(id: string, cmd: string[], options?: ExecOptions): Promise<ExecProcess> {
    await this.#record(id);
    return this.#o.executor.exec(id, cmd, options);
  }

  /** The executor's raw view (exit details) of a container. */
  async executorState(id: string): Promise<ExecutorState | undefined> {
    return this.#o.executor.state(id);
  }

  /** Pods this service holds. */
  pods(): string[] {
    return [...this.#pods.keys()];
  }

  /**
   * Loads the pods and containers an earlier worker process left on this host (pod.json and
   * record.json files), so they can be adopted or removed; returns their uids. Synchronous:
   * it runs once at startup, before the host lists what it still holds. A pod whose sandbox
   * never finished starting has no pod.json: it is listed too, and adopting it fails.
   */
  recover(): string[] {
    const uids = [...new Set([...readdirOr(join(this.#o.runRoot ?? this.#o.root, 'pods')), ...readdirOr(join(this.#o.root, 'pods'))])];
    for (const uid of uids) {
      const dir = this.podDir(uid);
      const entry = readJson<PodEntry>(join(dir, 'pod.json'));
      if (entry) this.#pods.set(uid, entry);
      for (const n of readdirOr(join(dir, 'containers'))) {
        const rec = readJson<ContainerRecord>(join(dir, 'containers', n, 'record.json'));
        if (rec) this.#containers.set(rec.id, rec);
      }
    }
    return uids;
  }

  /** The newest container record of `name` in pod `uid` (adoption after a restart). */
  latestContainer(uid: string, name: string): ContainerRecord | undefined {
    let best: ContainerRecord | undefined;
    for (const r of this.#containers.values()) {
      if (r.podUid === uid && r.name === name && (!best || r.attempt > best.attempt)) best = r;
    }
    return best;
  }
}

function validUid(uid: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/.test(uid)) throw new BurstletError('INVALID_INPUT', `invalid pod uid "${uid}"`);
  return uid;
}
