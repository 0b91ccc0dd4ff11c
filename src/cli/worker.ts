// `burstlet worker`: a worker host (workers/host/host.ts) serving one pool until SIGTERM/SIGINT.
import { join } from 'node:path';
import { WorkerHost } from '../../workers/host/host.ts';
import { hostOptionsFromSettings } from '../../workers/host/options.ts';
import { runUntilSignal } from '../../workers/host/signals.ts';
import { stableWorkerId } from '../../workers/host/worker-id.ts';
import type { PodRunner } from '../../workers/pod-runner.ts';
import { workerSpec } from '../config/commands.ts';
import type { Values } from '../config/load.ts';
import { createLogger, type Logger } from '../log.ts';
import type { Command } from './commands.ts';

type WorkerValues = Values<typeof workerSpec>;

export const worker: Command = {
  summary: 'run a worker host: claim pod jobs from the queue of a pool and run them',
  spec: workerSpec,
  async run(raw) {
    const v = raw as WorkerValues;
    if (!v.redis) {
      process.stderr.write('burstlet worker: --redis URL is required\n');
      return 2;
    }
    const log = createLogger({ level: v.logLevel, format: v.logFormat, name: 'burstlet-worker' });
    const { runner, release } = await podRunner(v, log);
    const workerId = stableWorkerId(v.stateDir, v.workerId);
    const host = await WorkerHost.start(hostOptionsFromSettings({ ...v, redis: v.redis }, workerId), runner, log).catch((err: unknown) => {
      release();
      throw err;
    });
    const code = await runUntilSignal(host, log);
    if (!release()) log.info({ stateDir: v.stateDir }, 'run directory kept: pods are left for the next worker to re-adopt');
    // After a failed shutdown or a second signal, open connections must not keep us alive.
    if (code !== 0) process.exit(code);
    return 0;
  },
};

/** The pod runtime behind the host (images, executor, sandbox network), from the settings. */
async function podRunner(v: WorkerValues, log: Logger): Promise<{ runner: PodRunner; release(): boolean }> {
  const { ImageService } = await import('../../workers/image/image-service.ts');
  const { createPodRuntime } = await import('../../workers/runtime/create-pod-runner.ts');
  const images = new ImageService({ root: join(v.stateDir, 'images'), registry: { mirrors: v.registryMirrors, insecure: v.insecureRegistries } });
  log.info({ runtime: v.runtime, network: v.network, stateDir: v.stateDir }, 'pod runtime ready');
  // It also recovers the pods an earlier worker process left here (runner.list()), which
  // the host then re-adopts or stops.
  return createPodRuntime({ ...v, warn: (msg) => log.warn(msg) }, images);
}
