// Registry credentials and the distribution token flow: credentials come from the pull
// request (CRI AuthConfig) or docker config.json `auths` (imagePullSecrets); challenges
// are answered with Basic or with a Bearer token fetched from the realm, reused until expiry.
import { BurstletError } from '../../src/errors.ts';
import { DOCKER_HUB } from '../../src/oci-reference.ts';
import { singleFlight } from '../../src/single-flight.ts';

/** CRI's AuthConfig: username/password, or `auth` = base64("user:pass"). */
export interface AuthConfig {
  readonly username?: string;
  readonly password?: string;
  readonly auth?: string;
  /** A registry token used as is for Bearer auth. */
  readonly registryToken?: string;
}

/** A parsed `WWW-Authenticate` challenge. */
export interface Challenge {
  readonly scheme: 'basic' | 'bearer';
  readonly params: Readonly<Record<string, string>>;
}

/** Parses `Bearer realm="...",service="...",scope="..."` (or `Basic realm=...`). */
export function parseChallenge(header: string | null): Challenge | undefined {
  if (!header) return undefined;
  const m = /^\s*(\w+)\s*(.*)$/s.exec(header);
  if (!m) return undefined;
  const scheme = m[1].toLowerCase();
  if (scheme !== 'basic' && scheme !== 'bearer') return undefined;
  const params: Record<string, string> = {};
  for (const p of m[2].matchAll(/([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) {
    params[p[1].toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3];
  }
  return { scheme, params };
}

/** username/password of an AuthConfig (decoding `auth`), or undefined when anonymous. */
export function userPass(auth: AuthConfig | undefined): { username: string; password: string } | undefined {
  if (!auth) return undefined;
  if (auth.username !== undefined && auth.username !== '') return { username: auth.username, password: auth.password ?? '' };
  if (auth.auth) {
    const text = Buffer.from(auth.auth, 'base64').toString('utf8');
    const colon = text.indexOf(':');
    if (colon > 0) return { username: text.slice(0, colon), password: text.slice(colon + 1) };
  }
  return undefined;
}

/** Keys under which docker config.json may file a registry's credentials. */
function configKeys(registry: string): string[] {
  if (registry === DOCKER_HUB) return ['https://index.docker.io/v1/', 'index.docker.io', 'docker.io', 'https://docker.io', 'registry-1.docker.io'];
  return [registry, `https://${registry}`, `http://${registry}`, `https://${registry}/v1/`, `https://${registry}/v2/`, `${registry}/v2/`];
}

/**
 * Finds credentials for `registry` in docker config files (JSON text or parsed): the
 * `.dockerconfigjson` form `{auths: {...}}` and the legacy `.dockercfg` form (the map itself).
 * The first config that names the registry wins, like the kubelet's keyring.
 */
export function authFromDockerConfigs(configs: readonly (string | object)[], registry: string): AuthConfig | undefined {
  for (const raw of configs) {
    let parsed: unknown;
    try {
      parsed = typeof raw === 'string' ? JSON.parse(raw) : raw;
    } catch (err) {
      throw new BurstletError('CONTAINER_CONFIG', `image pull secret is not valid docker config JSON: ${(err as Error).message}`, { cause: err });
    }
    const obj = parsed as { auths?: Record<string, AuthEntry> } & Record<string, AuthEntry>;
    const auths: Record<string, AuthEntry> = obj?.auths && typeof obj.auths === 'object' ? obj.auths : obj;
    for (const key of configKeys(registry)) {
      const entry = auths?.[key];
      if (entry && typeof entry === 'object') {
        return { username: entry.username, password: entry.password, auth: entry.auth, registryToken: entry.registrytoken };
      }
    }
  }
  return undefined;
}

interface AuthEntry {
  username?: string;
  password?: string;
  auth?: string;
  registrytoken?: string;
}

interface CachedToken {
  token: string;
  expiresAt: number;
}

/** Distribution tokens live at least 60 s per the spec; refresh a little early. */
const DEFAULT_TOKEN_SECONDS = 60;
const EARLY_REFRESH_MS = 5000;

/**
 * Fetches and caches Bearer tokens per realm, service, scope and identity. `token()` may
 * block on the network; it throws IMAGE_AUTH_FAILED when the realm refuses the credentials.
 */
export class TokenCache {
  #tokens = new Map<string, CachedToken>();
  #pending = new Map<string, Promise<string>>();
  #fetch: typeof fetch;

  constructor(fetchImpl: typeof fetch = fetch) {
    this.#fetch = fetchImpl;
  }

  async token(registry: string, challenge: Challenge, scope: string, auth: AuthConfig | undefined): Promise<string> {
    if (auth?.registryToken) return auth.registryToken;
    const creds = userPass(auth);
    const key = JSON.stringify([challenge.params.realm, challenge.params.service, scope, creds?.username ?? '', creds?.password ?? '']);
    const hit = this.#tokens.get(key);
    if (hit && hit.expiresAt - EARLY_REFRESH_MS > Date.now()) return hit.token;
    return singleFlight(this.#pending, key, () => this.#request(registry, challenge, scope, creds).then((t) => {
      this.#tokens.set(key, t);
      return t.token;
    }));
  }

  /** Forgets every token (e.g. after the registry rejected one). */
  clear(): void {
    this.#tokens.clear();
  }

  async #request(registry: string, challenge: Challenge, scope: string, creds?: { username: string; password: string }): Promise<CachedToken> {
    const realm = challenge.params.realm;
    if (!realm || !/^https?:\/\//.test(realm)) {
      throw new BurstletError('IMAGE_AUTH_FAILED', `registry ${registry}: bearer challenge without a usable realm`, { details: { registry } });
    }
    const url = new URL(realm);
    if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
    if (scope) url.searchParams.set('scope', scope);
    const headers: Record<string, string> = {};
    if (creds) headers.authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
    let res: Response;
    try {
      res = await this.#fetch(url, { headers, redirect: 'follow' });
    } catch (err) {
      throw new BurstletError('IMAGE_PULL_FAILED', `registry ${registry}: token server ${url.origin} unreachable: ${(err as Error).message}`, { cause: err });
    }
    const text = await res.text();
    if (res.status === 401 || res.status === 403) {
      throw new BurstletError('IMAGE_AUTH_FAILED', `registry ${registry}: authentication failed: token server refused ${creds ? `the credentials of "${creds.username}"` : 'anonymous access'} (HTTP ${res.status})`, {
        details: { registry },
      });
    }
    if (!res.ok) throw new BurstletError('IMAGE_PULL_FAILED', `registry ${registry}: token server answered HTTP ${res.status}`, { details: { registry } });
    let body: { token?: string; access_token?: string; expires_in?: number; issued_at?: string };
    try {
      body = JSON.parse(text);
    } catch {
      throw new BurstletError('IMAGE_PULL_FAILED', `registry ${registry}: token server sent invalid JSON`);
    }
    const token = body.token ?? body.access_token;
    if (!token) throw new BurstletError('IMAGE_PULL_FAILED', `registry ${registry}: token server sent no token`);
    const seconds = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : DEFAULT_TOKEN_SECONDS;
    return { token, expiresAt: Date.now() + seconds * 1000 };
  }
}
