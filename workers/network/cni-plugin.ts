/**
 * Runs one CNI plugin binary the way the CNI spec (and libcni) does: the command and the
 * container's identity in CNI_* environment variables, the network configuration as JSON on
 * stdin, the result (or a CNI error object) as JSON on stdout.
 */
import { spawn } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { join } from 'node:path';
import { BurstletError } from '../../src/errors.ts';

export type CniCommand = 'ADD' | 'DEL' | 'CHECK' | 'VERSION';

/** What a plugin invocation needs besides its configuration. */
export interface CniInvocation {
  command: CniCommand;
  containerId: string;
  /** Empty on DEL when the namespace is already gone (the spec allows it). */
  netns: string;
  ifName: string;
  /** Directories holding the plugins, searched in order (CNI_PATH). */
  cniPath: string[];
}

/** The error object a plugin prints on failure (CNI spec "Error" section). */
export interface CniErrorBody {
  code: number;
  msg: string;
  details?: string;
}

/** Finds `type` in the plugin directories; a missing plugin is a worker configuration error. */
export async function findPlugin(type: string, cniPath: string[]): Promise<string> {
  for (const dir of cniPath) {
    const file = join(dir, type);
    if (await access(file, constants.X_OK).then(() => true, () => false)) return file;
  }
  throw new BurstletError('CONFIG_INVALID', `CNI plugin "${type}" not found in ${cniPath.join(':')}`);
}

/** Formats a plugin failure with the plugin's own code, msg and details in the text. */
export function cniFailure(type: string, command: CniCommand, stdout: string, stderr: string, exit: string): BurstletError {
  let body: CniErrorBody | undefined;
  try {
    const parsed = JSON.parse(stdout) as Partial<CniErrorBody>;
    if (typeof parsed.code === 'number') body = { code: parsed.code, msg: String(parsed.msg ?? ''), details: parsed.details };
  } catch {
    // not JSON: fall back to stderr below
  }
  const what = body
    ? `CNI error code ${body.code}: ${body.msg}${body.details ? ` (${body.details})` : ''}`
    : `${exit}${stderr.trim() ? `: ${stderr.trim()}` : ''}${stdout.trim() ? `: ${stdout.trim()}` : ''}`;
  return new BurstletError('RUNTIME_FAILED', `CNI plugin ${type} ${command} failed: ${what}`, {
    details: { plugin: type, command, ...(body ? { cniCode: body.code, cniMsg: body.msg, cniDetails: body.details } : {}) },
  });
}

/**
 * Invokes plugin `type` with `config` on stdin. Resolves with the parsed stdout (undefined
 * when a plugin prints nothing, as DEL usually does); rejects with a BurstletError carrying
 * the plugin's CNI error. Never retries: callers decide.
 */
export async function invokePlugin(type: string, config: unknown, inv: CniInvocation): Promise<unknown> {
  const file = await findPlugin(type, inv.cniPath);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    CNI_COMMAND: inv.command,
    CNI_CONTAINERID: inv.containerId,
    CNI_NETNS: inv.netns,
    CNI_IFNAME: inv.ifName,
    CNI_PATH: inv.cniPath.join(':'),
  };
  const { stdout, stderr, exit } = await runWithInput(file, JSON.stringify(config), env);
  if (exit !== 'exit code 0') throw cniFailure(type, inv.command, stdout, stderr, exit);
  if (!stdout.trim()) return undefined;
  try {
    return JSON.parse(stdout);
  } catch (err) {
    throw new BurstletError('RUNTIME_FAILED', `CNI plugin ${type} ${inv.command} printed no JSON: ${stdout.slice(0, 200)}`, { cause: err });
  }
}

/** The CNI versions a plugin supports (VERSION command). */
export async function pluginVersions(type: string, cniPath: string[]): Promise<string[]> {
  const out = await invokePlugin(type, { cniVersion: '0.1.0' }, { command: 'VERSION', containerId: '', netns: '', ifName: '', cniPath });
  const versions = (out as { supportedVersions?: unknown } | undefined)?.supportedVersions;
  return Array.isArray(versions) ? versions.map(String) : [];
}

/** Spawns `file` with `input` on stdin; collects stdout/stderr and how it ended. */
function runWithInput(file: string, input: string, env: NodeJS.ProcessEnv): Promise<{ stdout: string; stderr: string; exit: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, [], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => reject(new BurstletError('RUNTIME_FAILED', `cannot run CNI plugin ${file}: ${e.message}`, { cause: e })));
    child.on('close', (code, signal) => {
      resolve({ stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), exit: signal ? `signal ${signal}` : `exit code ${code}` });
    });
    child.stdin.on('error', () => {}); // a plugin that exits before reading stdin: its exit status tells
    child.stdin.end(input);
  });
}
