/**
 * The `burstlet` CLI: a command table, one file per subcommand. Errors from configuration
 * are printed as one clear line and exit 2; nothing else prints here.
 */
import { BurstletError } from '../errors.ts';
import { helpText, loadConfig, type Spec } from '../config/load.ts';
import { commands } from './commands.ts';

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  if (name === '--version' || name === 'version') {
    process.stdout.write(`burstlet ${version()}\n`);
    return 0;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`burstlet: unknown command ${JSON.stringify(name)}\n\n${usage()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${helpText(name, command.summary, command.spec)}\n`);
    return 0;
  }
  let config;
  try {
    config = loadConfig(command.spec as Spec, rest);
  } catch (err) {
    if (err instanceof BurstletError && err.code === 'CONFIG_INVALID') {
      process.stderr.write(`burstlet ${name}: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  return command.run(config.values, config.positional);
}

function usage(): string {
  const rows = Object.entries(commands).map(([n, c]) => `  ${n.padEnd(12)}${c.summary}`);
  return ['Usage: burstlet <command> [flags]', '', 'Commands:', ...rows, '', 'Run `burstlet <command> --help` for its flags.', ''].join('\n');
}

export function version(): string {
  return process.env.npm_package_version ?? '0.1.0';
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`burstlet: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
