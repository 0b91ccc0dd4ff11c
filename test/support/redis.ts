// A real redis-server (Debian package) on a free loopback port with its own temp dir.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.ts';

export interface RedisServer {
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** Stops the server (SIGTERM, waits for exit) and removes its dir. */
  stop(): Promise<void>;
  /** Kills the server hard (SIGKILL), keeping its dir: the AOF survives for restart(). */
  crash(): Promise<void>;
  /** Starts the server again on the same port and dir (after crash()). */
  restart(): Promise<void>;
}

export interface RedisOptions {
  /** Append-only file persistence (fsync always), for crash tests. */
  appendonly?: boolean;
}

export async function startRedis(options: RedisOptions = {}): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'burstlet-redis-'));
  const port = await freePort();
  const args = [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '',
    '--appendonly', options.appendonly ? 'yes' : 'no', '--appendfsync', 'always',
    '--daemonize', 'no', '--loglevel', 'warning',
  ];
  let child: ChildProcess | undefined;
  const launch = async () => {
    // setpriv (util-linux) sets a parent-death signal before exec'ing redis-server, so a test
    // process that dies (or is killed on a timeout) without stop() leaves no server behind.
    child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', 'redis-server', ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
    await waitForPing(port, child);
  };
  const exit = (signal: NodeJS.Signals) =>
    new Promise<void>((resolve) => {
      if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill(signal);
    });
  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    async stop() {
      await exit('SIGTERM');
      await rm(dir, { recursive: true, force: true });
    },
    crash: () => exit('SIGKILL'),
    restart: launch,
  };
}

/** Resolves once the server answers PING; rejects if the process exits first. */
async function waitForPing(port: number, child: ChildProcess): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode}`);
    if (await ping(port)) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`redis-server on port ${port} did not answer PING`);
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('error', () => resolve(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
  });
}
