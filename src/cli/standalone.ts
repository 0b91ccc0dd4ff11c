// `burstlet standalone`: everything on this machine (what `npm start` runs).
import { standaloneSpec } from '../config/commands.ts';
import type { Values } from '../config/load.ts';
import { BurstletError } from '../errors.ts';
import { createLogger } from '../log.ts';
import type { Command } from './commands.ts';

export const standalone: Command = {
  summary: 'run everything on this machine: redis, provider (pods from a manifest folder), a worker and the UI',
  spec: standaloneSpec,
  async run(raw) {
    const v = raw as Values<typeof standaloneSpec>;
    const log = createLogger({ level: v.logLevel, format: v.logFormat, name: 'burstlet' });
    const { runStandalone } = await import('../../provider/standalone/standalone.ts');
    const abort = new AbortController();
    const onSignal = (sig: string) => {
      if (abort.signal.aborted) {
        process.stderr.write(`burstlet: ${sig} again, exiting now\n`);
        process.exit(130);
      }
      abort.abort();
    };
    process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
    try {
      await runStandalone({
        redis: v.redis, keyPrefix: v.keyPrefix, nodeName: v.nodeName, listen: v.listen, ui: v.ui,
        uiAuth: { token: v.uiToken, basic: v.uiBasicAuth }, podManifestPath: v.podManifestPath, registry: v.registry,
        stateDir: v.stateDir, runtime: v.runtime, network: v.network, logLevel: v.logLevel, log,
        say: (line) => process.stdout.write(`burstlet: ${line}\n`),
      }, abort.signal);
    } catch (err) {
      if (err instanceof BurstletError && err.code === 'CONFIG_INVALID') {
        process.stderr.write(`burstlet standalone: ${err.message}\n`);
        return 2;
      }
      throw err;
    }
    // Everything was stopped in order; a library's stray timer must not keep the process up.
    setTimeout(() => process.exit(process.exitCode ?? 0), 500).unref();
    return 0;
  },
};
