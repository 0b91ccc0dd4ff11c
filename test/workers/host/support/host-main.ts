// A worker host in its own process, with the test ProcessRunner, for tests that kill it
// (SIGKILL: a lost host) or signal it (SIGTERM: graceful shutdown). argv[2] is a JSON
// object: HostOptions plus `pidFile`. Prints "ready" once claiming.
import { silentLogger } from '../../../../src/log.ts';
import { WorkerHost } from '../../../../workers/host/host.ts';
import { hostOptions } from '../../../../workers/host/options.ts';
import { runUntilSignal } from '../../../../workers/host/signals.ts';
import { ProcessRunner } from './process-runner.ts';

const { pidFile, ...given } = JSON.parse(process.argv[2]!);
const log = silentLogger();
const host = await WorkerHost.start(hostOptions(given), new ProcessRunner({ pidFile }), log);
process.stdout.write('ready\n');
process.exitCode = await runUntilSignal(host, log);
