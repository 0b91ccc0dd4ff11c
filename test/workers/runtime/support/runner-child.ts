// A worker stand-in for crash tests: runs one pod with runc and prints every report as a JSON
// line on stdout. argv: <state dir> <lower rootfs> <PodJob JSON>.
import { join } from 'node:path';
import type { PodJob } from '../../../../src/schema/pod-job.ts';
import { runcExecutor } from '../../../../workers/executor/runc.ts';
import { RuntimePodRunner } from '../../../../workers/runtime/pod-runner.ts';
import { RuntimeService } from '../../../../workers/runtime/runtime-service.ts';
import { dirImageSource } from './dir-image-source.ts';

const [state, lower, jobJson] = process.argv.slice(2);
const images = dirImageSource(lower, join(state, 'snap'));
const runtime = new RuntimeService({ root: state, executor: runcExecutor(join(state, 'executor')), images, network: { mode: 'none' } });
const runner = new RuntimePodRunner({ runtime, images });
const out = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
await runner.run(JSON.parse(jobJson) as PodJob, {
  status: (s) => out({ status: s }),
  log: (container, record) => out({ log: { container, record } }),
  stats: () => undefined,
});
