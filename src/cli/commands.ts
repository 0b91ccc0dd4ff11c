// The subcommand table: name → summary, settings and entry point (one file each).
import type { Spec } from '../config/load.ts';
import { provider } from './provider.ts';
import { standalone } from './standalone.ts';
import { worker } from './worker.ts';

export interface Command {
  readonly summary: string;
  readonly spec: Spec;
  /** Runs until the process should exit; resolves with the exit code. */
  run(values: Record<string, unknown>, positional: string[]): Promise<number>;
}

export const commands: Record<string, Command> = { provider, worker, standalone };
