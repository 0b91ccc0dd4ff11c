/**
 * Configuration: command-line flags > environment (BURSTLET_*) > optional config file
 * (JSON or YAML, given by --config or BURSTLET_CONFIG) > defaults. Every bad value is
 * rejected at start with a BurstletError naming the setting, where it came from and the
 * allowed form. Unknown flags and unknown config-file keys are rejected too.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { BurstletError } from '../errors.ts';
import type { Kind } from './settings.ts';

export interface Setting<T, O extends boolean> {
  readonly kind: Kind<T>;
  readonly description: string;
  readonly default?: T;
  readonly optional: O;
}

/** A setting with no default: its value may be undefined. */
export const opt = <T>(kind: Kind<T>, description: string): Setting<T, true> => ({ kind, description, optional: true });
/** A setting with a default. */
export const def = <T>(kind: Kind<T>, description: string, value: T): Setting<T, false> => ({ kind, description, default: value, optional: false });

// biome-ignore lint: any is needed to accept settings of every type
export type Spec = Record<string, Setting<any, boolean>>;
export type Values<S extends Spec> = {
  [K in keyof S]: S[K] extends Setting<infer T, infer O> ? (O extends true ? T | undefined : T) : never;
};

export const flagName = (name: string) => `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
export const envName = (name: string) => `BURSTLET_${name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;

const invalid = (message: string) => new BurstletError('CONFIG_INVALID', message);

/** Splits argv into `--name value` pairs keyed by setting name, plus positional args. */
export function parseFlags(spec: Spec, argv: readonly string[]): { flags: Map<string, unknown>; positional: string[] } {
  const byFlag = new Map(Object.keys(spec).map((name) => [flagName(name), name]));
  const flags = new Map<string, unknown>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    const negated = flag.startsWith('--no-') ? byFlag.get(`--${flag.slice(5)}`) : undefined;
    const name = byFlag.get(flag) ?? negated;
    if (!name) throw invalid(`unknown flag ${flag} (see --help)`);
    const kind = spec[name]!.kind;
    if (negated && kind.isFlag) flags.set(name, false);
    else if (eq !== -1) flags.set(name, arg.slice(eq + 1));
    else if (kind.isFlag) flags.set(name, true);
    else if (i + 1 < argv.length) flags.set(name, argv[++i]);
    else throw invalid(`flag ${flag} needs a value: ${kind.form}`);
  }
  return { flags, positional };
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw invalid(`config file ${path} cannot be read: ${(err as Error).message}`);
  }
  let data: unknown;
  try {
    data = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw invalid(`config file ${path} is not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message}`);
  }
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) throw invalid(`config file ${path} must hold a mapping of setting names to values`);
  return data as Record<string, unknown>;
}

/** Resolves every setting of `spec` from argv, env and the config file. */
export function loadConfig<S extends Spec>(
  spec: S,
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = process.env,
): { values: Values<S>; positional: string[] } {
  const withConfig: Spec = { ...spec, config: opt({ form: 'a path to a JSON or YAML file', parse: (v) => String(v) }, 'config file') };
  const { flags, positional } = parseFlags(withConfig, argv);
  const configPath = (flags.get('config') as string | undefined) ?? env.BURSTLET_CONFIG;
  const file = configPath ? readConfigFile(configPath) : {};
  for (const key of Object.keys(file)) {
    if (!(key in spec)) throw invalid(`config file ${configPath}: unknown setting ${JSON.stringify(key)} (known: ${Object.keys(spec).join(', ')})`);
  }
  const values: Record<string, unknown> = {};
  for (const [name, setting] of Object.entries(spec)) {
    const sources: [string, unknown][] = [
      [flagName(name), flags.get(name)],
      [envName(name), env[envName(name)]],
      [`${name} in ${configPath}`, file[name]],
    ];
    const found = sources.find(([, v]) => v !== undefined && v !== '');
    if (!found) {
      values[name] = setting.default;
      continue;
    }
    try {
      values[name] = setting.kind.parse(found[1]);
    } catch (err) {
      throw invalid(`invalid value for ${found[0]}: ${JSON.stringify(found[1])} — expected ${(err as Error).message}`);
    }
  }
  return { values: values as Values<S>, positional };
}

/** --help text: one line per setting with its flag, env var, allowed form and default. */
export function helpText(command: string, summary: string, spec: Spec): string {
  const lines = [`Usage: burstlet ${command} [flags]`, '', summary, '', 'Flags (flag > env > config file > default):'];
  for (const [name, s] of Object.entries(spec)) {
    const value = s.kind.isFlag ? '' : ' VALUE';
    const dflt = s.default === undefined ? '' : ` (default ${typeof s.default === 'object' ? JSON.stringify(s.default) : String(s.default)})`;
    lines.push(`  ${flagName(name)}${value}`, `      ${s.description}${dflt}`, `      env ${envName(name)}; ${s.kind.form}`);
  }
  lines.push('  --config PATH', '      JSON or YAML file of settings by name (e.g. nodeName: vk-1); env BURSTLET_CONFIG', '  --help', '      show this help');
  return lines.join('\n');
}
