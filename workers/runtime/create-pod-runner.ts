/**
 * Builds the worker's PodRunner from its settings: the executor by `--runtime`, the pod
 * network by `--network`, the image service the host already made, and state under
 * `<stateDir>/runtime` (disk: what containers write — logs, /etc files, volumes — and IPAM
 * leases) and `<stateDir>/run` (the tmpfs run directory: executor state, bundles, pod records;
 * see run-dir.ts). The one place that wires the runtime together.
 */
import { join } from 'node:path';
import type { ImageService } from '../image/image-service.ts';
import { burstletExecutor } from '../executor/burstlet.ts';
import { crunExecutor } from '../executor/crun.ts';
import type { Executor, ExecutorName } from '../executor/executor.ts';
import { runcExecutor } from '../executor/runc.ts';
import type { BridgeNetwork } from './cni.ts';
import { imageServiceSource } from './image-source.ts';
import type { LifecycleTiming } from './pod-context.ts';
import { RuntimePodRunner } from './pod-runner.ts';
import { prepareRunDir, releaseRunDir } from './run-dir.ts';
import { RuntimeService } from './runtime-service.ts';
import type { NetworkMode, SandboxNetwork } from './sandbox.ts';

export interface PodRuntimeSettings {
  runtime: ExecutorName;
  stateDir: string;
  network: NetworkMode;
  allowPrivileged: boolean;
  allowHostPath: boolean;
  /** Bridge mode: defaults bridge `burstlet0`, subnet 10.88.0.0/16, leases under stateDir. */
  bridge?: Partial<BridgeNetwork>;
  timing?: Partial<LifecycleTiming>;
  /** Told when the run directory cannot be a tmpfs. */
  warn?: (msg: string) => void;
}

export function executorFor(name: ExecutorName, root: string): Executor {
  if (name === 'runc') return runcExecutor(join(root, 'runc'));
  if (name === 'crun') return crunExecutor(join(root, 'crun'));
  return burstletExecutor(join(root, 'burstlet'));
}

function networkFor(s: PodRuntimeSettings, root: string): SandboxNetwork {
  if (s.network !== 'bridge') return { mode: s.network };
  return { mode: 'bridge', bridge: { bridge: 'burstlet0', subnet: '10.88.0.0/16', ipamDir: join(root, 'cni'), ...s.bridge } };
}

/**
 * The runtime service and the PodRunner over it, with the pods an earlier worker process
 * left on this host already recovered (`runner.list()` names them: adopt with `run`, or `stop`).
 * `release` when the worker exits: the run directory goes if no pod is left in it.
 */
export function createPodRuntime(s: PodRuntimeSettings, images: ImageService): { runtime: RuntimeService; runner: RuntimePodRunner; release(): boolean } {
  const root = join(s.stateDir, 'runtime');
  const run = prepareRunDir(join(s.stateDir, 'run'), s.warn);
  const source = imageServiceSource(images);
  const runtime = new RuntimeService({
    root, runRoot: run.path, executor: executorFor(s.runtime, join(run.path, 'executor')), images: source, network: networkFor(s, root),
    allowPrivileged: s.allowPrivileged, allowHostPath: s.allowHostPath,
  });
  const runner = new RuntimePodRunner({ runtime, images: source, timing: s.timing });
  runner.recover();
  return { runtime, runner, release: () => releaseRunDir(run) };
}
