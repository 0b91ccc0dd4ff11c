/**
 * Runs a started host until SIGTERM or SIGINT, then shuts it down the configured way and
 * resolves with the exit code: 0 after a clean shutdown, 1 if it failed, 130 at once on a
 * second signal (Ctrl-C twice) — the caller then exits without waiting for the shutdown.
 */
import type { Logger } from 'pino';
import type { WorkerHost } from './host.ts';

export function runUntilSignal(host: Pick<WorkerHost, 'shutdown'>, log: Logger): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        log.warn({ signal }, 'second signal: exiting without cleanup');
        resolve(130);
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
