// A worker stand-in for crash tests: runs one pod with the named executor and prints every
// report as a JSON line on stdout. argv: <executor: runc|burstlet> <state dir> <lower rootfs> <PodJob JSON>.
import { join } from 'node:path';
import type { PodJob } from '../../../../src/schema/pod-job.ts';
import { RuntimePodRunner } from '../../../../workers/runtime/pod-runner.ts';
import { RuntimeService } from '../../../../workers/runtime/runtime-service.ts';
import { dirImageSource } from './dir-image-source.ts';
import { crashTestExecutor, type CrashTestExecutor } from './crash-executor.ts';

const [executor, state, lower, jobJson] = process.argv.slice(2);
const images = dirImageSource(lower, join(state, 'snap'));
// The worker's layout: pod records, bundles and executor state in a run directory of their own.
const run = join(state, 'run');
const runtime = new RuntimeService({ root: state, runRoot: run, executor: crashTestExecutor(executor as CrashTestExecutor, run), images, network: { mode: 'none' } });
const runner = new RuntimePodRunner({ runtime, images });
const out = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
await runner.run(JSON.parse(jobJson) as PodJob, {
  status: (s) => out({ status: s }),
  log: (container, record) => out({ log: { container, record } }),
  stats: () => undefined,
});
