// A token server for the registry's `auth: token` mode, per the distribution token
// authentication spec: GET <realm>?service=&scope= (optionally with basic credentials) or the
// OAuth2 password grant POST returns a JWT the registry verifies. The JWT header carries the
// signing certificate as `x5c`; distribution 2.8 (registry/auth/token/token.go) verifies that
// chain against its `rootcertbundle`, then checks iss, aud (a single string), exp/nbf and the
// `access` claim. Test support only: the registry itself is the real Debian docker-registry.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { execFile } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { generateKeyPairSync, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

export interface TokenServerOptions {
  /** Temp dir for the signing certificate (the registry's rootcertbundle). */
  dir: string;
  username: string;
  password: string;
  /** Audience the registry accepts (`auth.token.service`). */
  service: string;
  /** Token issuer the registry trusts (`auth.token.issuer`). */
  issuer: string;
  /** Grant `pull` to requests without credentials (default: no access at all). */
  anonymousPull?: boolean;
}

/**
 * A running token server. Counters let tests prove a client cached its token. Bad
 * credentials get 401; missing credentials get a token with only what anonymous may do.
 */
export interface TokenServer {
  /** The realm URL to configure in the registry: 'http://127.0.0.1:PORT/token'. */
  realm: string;
  /** PEM file with the signing certificate. */
  certPath: string;
  readonly issued: number;
  readonly refused: number;
  stop(): Promise<void>;
}

interface Access { type: string; name: string; actions: string[] }

export async function startTokenServer(options: TokenServerOptions): Promise<TokenServer> {
  const signer = await signingIdentity(options.dir);
  const counts = { issued: 0, refused: 0 };
  const server = createServer((req, res) => {
    handle(req, res, options, signer, counts).catch((err: Error) => reply(res, 500, { error: err.message }));
  });
  // Port 0: the kernel picks a free port at bind time, so no race with other services.
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    certPath: signer.certPath,
    get issued() { return counts.issued; },
    get refused() { return counts.refused; },
    stop: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

interface Signer { key: KeyObject; x5c: string; certPath: string }

// An EC P-256 key and a self-signed certificate for it (openssl makes the X.509 part: Node
// can make keys but not certificates).
async function signingIdentity(dir: string): Promise<Signer> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const keyPath = join(dir, 'token-signing.key');
  const certPath = join(dir, 'token-signing.crt');
  await writeFile(keyPath, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  await promisify(execFile)('openssl', [
    'req', '-x509', '-new', '-sha256', '-key', keyPath, '-days', '3650',
    '-subj', '/CN=burstlet test token issuer', '-out', certPath,
  ]);
  const cert = new X509Certificate(await readFile(certPath));
  return { key: privateKey, x5c: cert.raw.toString('base64'), certPath };
}

async function handle(
  req: IncomingMessage, res: ServerResponse, options: TokenServerOptions, signer: Signer,
  counts: { issued: number; refused: number },
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://token');
  if (url.pathname !== '/token') return reply(res, 404, { error: 'not found' });
  let params = url.searchParams;
  let user = basicUser(req.headers.authorization);
  if (req.method === 'POST') {
    params = new URLSearchParams(await readBody(req));
    if (params.get('grant_type') === 'password') user = { name: params.get('username') ?? '', password: params.get('password') ?? '' };
  } else if (req.method !== 'GET') {
    return reply(res, 405, { error: 'method not allowed' });
  }
  const authenticated = user !== undefined && user.name === options.username && user.password === options.password;
  if (user !== undefined && !authenticated) {
    counts.refused++;
    res.setHeader('WWW-Authenticate', 'Basic realm="burstlet test token server"');
    return reply(res, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'bad credentials' }] });
  }
  if (params.get('service') !== options.service) {
    counts.refused++;
    return reply(res, 400, { errors: [{ code: 'DENIED', message: `unknown service ${params.get('service')}` }] });
  }
  const access = params.getAll('scope').flatMap((s) => s.split(' ')).filter(Boolean)
    .map(parseScope).map((a) => grant(a, authenticated, options.anonymousPull === true))
    .filter((a) => a.actions.length > 0);
  const now = Math.floor(Date.now() / 1000);
  const expiresIn = 300;
  const token = signJwt(signer, {
    iss: options.issuer, sub: authenticated ? options.username : '', aud: options.service,
    exp: now + expiresIn, nbf: now - 10, iat: now, jti: randomBytes(12).toString('hex'), access,
  });
  counts.issued++;
  reply(res, 200, {
    token, access_token: token, expires_in: expiresIn, issued_at: new Date(now * 1000).toISOString(),
  });
}

// "repository:name/with/slashes:pull,push" — the name may hold ':' only in exotic types, so
// type ends at the first colon and actions start after the last.
function parseScope(scope: string): Access {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first < 0 || last === first) return { type: scope, name: '', actions: [] };
  return { type: scope.slice(0, first), name: scope.slice(first + 1, last), actions: scope.slice(last + 1).split(',') };
}

// Authenticated users get what they ask for; anonymous ones at most pull.
function grant(access: Access, authenticated: boolean, anonymousPull: boolean): Access {
  if (authenticated) return access;
  const allowed = anonymousPull && access.type === 'repository' ? ['pull'] : [];
  return { ...access, actions: access.actions.filter((a) => allowed.includes(a)) };
}

function signJwt(signer: Signer, claims: Record<string, unknown>): string {
  const header = { typ: 'JWT', alg: 'ES256', x5c: [signer.x5c] };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  // JWS ES256 signatures are raw r||s (IEEE P1363), not DER.
  const signature = sign('sha256', Buffer.from(input), { key: signer.key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${b64url(signature)}`;
}

function b64url(data: string | Buffer): string {
  return Buffer.from(data).toString('base64url');
}

function basicUser(header: string | undefined): { name: string; password: string } | undefined {
  if (!header || !header.toLowerCase().startsWith('basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? { name: decoded, password: '' } : { name: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify(body));
}
