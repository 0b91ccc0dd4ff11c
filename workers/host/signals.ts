/**
 * Runs a started host until SIGTERM or SIGINT, then shuts it down the configured way and
 * resolves with the exit code (0 after a clean shutdown). A second signal while shutting
 * down exits at once (1), the way an operator expects Ctrl-C twice to work.
 */
import type { Logger } from 'pino';
import type { WorkerHost } from './host.ts';

export function runUntilSignal(host: Pick<WorkerHost, 'shutdown'>, log: Logger): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        log.warn({ signal }, 'second signal: exiting without cleanup');
        resolve(1);
        return;
      }
      stopping = true;
      log.info({ signal }, 'signal received: shutting down');
      host.shutdown().then(
        () => {
          process.off('SIGTERM', onSignal);
          process.off('SIGINT', onSignal);
          resolve(0);
        },
        (err: unknown) => {
          log.error({ err }, 'shutdown failed');
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
