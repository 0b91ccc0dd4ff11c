// A real OCI registry for tests: Debian's docker-registry (distribution 2.8) on a free
// loopback port with filesystem storage in a temp dir; optionally htpasswd basic auth or the
// distribution token flow (token-server.ts issues the tokens).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { htpasswdLine } from './htpasswd.ts';
import { freePort } from './ports.ts';
import { startTokenServer, type TokenServer } from './token-server.ts';

export type RegistryAuth = 'none' | 'basic' | 'token';

/**
 * A running registry. `username`/`password` are set for basic and token auth (in token mode
 * they are what the token server accepts). stop() is idempotent and removes all storage.
 * In token mode the token server runs inside the calling process: never block its event loop
 * (execFileSync/spawnSync of a client such as skopeo) while a client needs a token — it hangs.
 */
export interface Registry {
  /** '127.0.0.1:PORT', the host part of image references. */
  host: string;
  /** 'http://127.0.0.1:PORT' */
  url: string;
  auth: RegistryAuth;
  username?: string;
  password?: string;
  /** Token mode only: the token server (its realm and request counters). */
  tokenServer?: TokenServer;
  /** Token mode: the `service` the registry names in its challenges. */
  service?: string;
  stop(): Promise<void>;
}

export interface RegistryOptions {
  auth?: RegistryAuth;
  username?: string;
  password?: string;
  /** Token mode: anonymous token requests get `pull` (default: nothing). */
  anonymousPull?: boolean;
}

export const TOKEN_SERVICE = 'burstlet-test-registry';
export const TOKEN_ISSUER = 'burstlet-test-token-server';

export async function startRegistry(opts: RegistryOptions = {}): Promise<Registry> {
  const auth = opts.auth ?? 'none';
  const dir = await mkdtemp(join(tmpdir(), 'burstlet-registry-'));
  const username = auth === 'none' ? undefined : (opts.username ?? 'burstlet');
  const password = auth === 'none' ? undefined : (opts.password ?? `pw-${randomBytes(8).toString('hex')}`);
  let tokenServer: TokenServer | undefined;
  try {
    let authConfig: unknown = undefined;
    if (auth === 'basic') {
      await writeFile(join(dir, 'htpasswd'), htpasswdLine(username!, password!));
      authConfig = { htpasswd: { realm: 'burstlet-test', path: join(dir, 'htpasswd') } };
    } else if (auth === 'token') {
      tokenServer = await startTokenServer({
        dir, username: username!, password: password!, service: TOKEN_SERVICE, issuer: TOKEN_ISSUER,
        anonymousPull: opts.anonymousPull,
      });
      authConfig = {
        token: { realm: tokenServer.realm, service: TOKEN_SERVICE, issuer: TOKEN_ISSUER, rootcertbundle: tokenServer.certPath },
      };
    }
    const { child, port } = await launch(dir, authConfig);
    return {
      host: `127.0.0.1:${port}`,
      url: `http://127.0.0.1:${port}`,
      auth, username, password, tokenServer,
      service: auth === 'token' ? TOKEN_SERVICE : undefined,
      stop: once(async () => {
        await terminate(child);
        await tokenServer?.stop();
        await rm(dir, { recursive: true, force: true });
      }),
    };
  } catch (err) {
    await tokenServer?.stop();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

// Starts the registry on a free port; retries on a fresh port when another process took the
// port between freePort() and the registry's bind.
async function launch(dir: string, auth: unknown): Promise<{ child: ChildProcess; port: number }> {
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const configPath = join(dir, 'config.yml');
    // YAML is a superset of JSON, so the config is written as JSON.
    await writeFile(configPath, JSON.stringify(registryConfig(dir, port, auth), null, 2));
    // setpriv (util-linux) sets a parent-death signal before exec'ing the registry, so a test
    // process that dies without stop() does not leave registries running.
    const child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', 'docker-registry', 'serve', configPath], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const keep = (chunk: Buffer) => { output = (output + chunk.toString()).slice(-8192); };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    try {
      await waitReady(port, child);
      return { child, port };
    } catch (err) {
      await terminate(child);
      lastError = new Error(`docker-registry did not start: ${(err as Error).message}\n${output}`);
      if (!output.includes('address already in use')) break;
    }
  }
  throw lastError;
}

function registryConfig(dir: string, port: number, auth: unknown): Record<string, unknown> {
  return {
    version: 0.1,
    log: { level: 'error', accesslog: { disabled: true } },
    storage: {
      filesystem: { rootdirectory: join(dir, 'data') },
      delete: { enabled: true },
      maintenance: { uploadpurging: { enabled: false } },
    },
    http: { addr: `127.0.0.1:${port}`, secret: randomBytes(16).toString('hex') },
    ...(auth ? { auth } : {}),
  };
}

// Ready when /v2/ answers at all (200 without auth, 401 with it).
async function waitReady(port: number, child: ChildProcess): Promise<void> {
  // Generous: a loaded 2-core CI machine may be slow to start a Go binary.
  for (const deadline = Date.now() + 30_000; Date.now() < deadline;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`exited (${child.exitCode ?? child.signalCode})`);
    try {
      // A registry that took the connection but never answers must not hold the wait past its deadline.
      const res = await fetch(`http://127.0.0.1:${port}/v2/`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200 || res.status === 401) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no answer on port ${port}`);
}

function terminate(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => { clearTimeout(timer); resolve(); });
    child.kill('SIGTERM');
  });
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= fn());
}
