// `burstlet provider`.
import { providerSpec } from '../config/commands.ts';
import type { Command } from './commands.ts';

export const provider: Command = {
  summary: 'run the virtual kubelet: register the node, turn its pods into queue jobs, serve the kubelet API',
  spec: providerSpec,
  async run() {
    process.stderr.write('burstlet provider: not built yet (see the issues); --help lists its flags\n');
    return 1;
  },
};
