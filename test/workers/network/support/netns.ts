// Network namespaces held the way the runtime holds them: a process in a new netns
// (/proc/<pid>/ns/net), like the pod's pause process.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const ROOT_SKIP = process.getuid?.() === 0 ? false : 'needs root (network namespaces, bridges, iptables)';
export const PLUGINS_SKIP = !existsSync('/usr/lib/cni/bridge') && 'containernetworking-plugins not installed (/usr/lib/cni)';

/** A process sitting in its own network namespace. */
export interface NetnsHolder {
  pid: number;
  path: string;
  /** SIGKILL and wait until the process is gone (idempotent). */
  kill(): Promise<void>;
}

/** Starts `unshare --net busybox sleep` (unshare execs, so the pid is the sleeper's). */
export async function holdNetns(): Promise<NetnsHolder> {
  const child: ChildProcess = spawn('unshare', ['--net', '/bin/busybox', 'sleep', '100000'], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const pid = child.pid!;
  const path = `/proc/${pid}/ns/net`;
  // wait until unshare has exec'd: the namespace differs from ours then
  const self = (await run('readlink', ['/proc/self/ns/net'])).stdout.trim();
  await until('netns holder', async () => {
    const cmd = (await run('cat', [`/proc/${pid}/comm`]).catch(() => ({ stdout: '' }))).stdout.trim();
    const ns = (await run('readlink', [path]).catch(() => ({ stdout: '' }))).stdout.trim();
    return cmd !== 'unshare' && ns !== '' && ns !== self;
  });
  return {
    pid,
    path,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Runs `args` inside the namespace at `path`. */
export function inNetns(path: string, args: string[], timeout = 30_000) {
  return run('nsenter', [`--net=${path}`, ...args], { timeout });
}

/** Polls `fn` until it returns true (generous timeout; never a fixed sleep). */
export async function until(what: string, fn: () => Promise<boolean> | boolean, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Whether a link named `name` exists in the host's namespace. */
export async function linkExists(name: string): Promise<boolean> {
  return run('ip', ['link', 'show', 'dev', name]).then(() => true, () => false);
}
