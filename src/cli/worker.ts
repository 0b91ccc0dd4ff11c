// `burstlet worker`.
import { workerSpec } from '../config/commands.ts';
import type { Command } from './commands.ts';

export const worker: Command = {
  summary: 'run a worker host: claim pod jobs from the queue of a pool and run them',
  spec: workerSpec,
  async run() {
    process.stderr.write('burstlet worker: not built yet (see the issues); --help lists its flags\n');
    return 1;
  },
};
