// Runs `burstlet standalone` as a child process on free ports with its own manifest folder
// and state dir, the way a user runs `npm start`; stop() sends SIGINT like Ctrl-C.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../support/ports.ts';

export interface Standalone {
  ui: string;
  manifests: string;
  stateDir: string;
  output(): string;
  /** Ctrl-C; resolves with the exit code once the process is gone. */
  stop(): Promise<number | null>;
  child: ChildProcess;
}

export async function runStandalone(extra: string[] = []): Promise<Standalone> {
  const dir = await mkdtemp(join(tmpdir(), 'burstlet-standalone-'));
  const manifests = join(dir, 'pods');
  const stateDir = join(dir, 'state');
  const { mkdir } = await import('node:fs/promises');
  await mkdir(manifests);
  const [ui, kubelet] = [await freePort(), await freePort()];
  const child = spawn('bin/burstlet', ['standalone', '--pod-manifest-path', manifests, '--state-dir', stateDir, '--ui', `127.0.0.1:${ui}`,
    '--listen', `127.0.0.1:${kubelet}`, '--node-name', 'standalone-test', '--log-format', 'json', '--log-level', 'info', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const deadline = Date.now() + 180_000;
  while (!/UI at http/.test(out)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`standalone did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    ui: `http://127.0.0.1:${ui}`,
    manifests,
    stateDir,
    output: () => out,
    child,
    stop: async () => {
      child.kill('SIGINT');
      return exited;
    },
  };
}

/** Polls `fn` until it returns a truthy value; fails with the last value after `timeoutMs`. */
export async function until<T>(what: string, fn: () => Promise<T>, timeoutMs = 120_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    try {
      last = await fn();
      if (last) return last as NonNullable<T>;
    } catch (err) {
      last = err as T;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)?.slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
