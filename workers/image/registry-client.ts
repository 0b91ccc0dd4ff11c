// The OCI distribution client: manifests and blobs over HTTP(S) with the registry's auth
// challenge answered once per host and reused, plain HTTP only for insecure registries,
// mirrors tried before the upstream, and blob streams that can resume with Range.
import { createHash } from 'node:crypto';
import { BurstletError } from '../../src/errors.ts';
import { apiHost, isLoopbackHost, type ImageReference } from '../../src/oci-reference.ts';
import { TransferInterrupted, type BlobSource } from './content-store.ts';
import { blobGet } from './blob-get.ts';
import { httpGet, type HttpResponse } from './http-get.ts';
import { MANIFEST_ACCEPT } from './manifest.ts';
import { parseChallenge, TokenCache, userPass, type AuthConfig, type Challenge } from './registry-auth.ts';

/** How the client reaches registries. Plain data, usually from the worker's config. */
export interface RegistryClientOptions {
  /** Registries (host[:port]) that may be spoken to over plain HTTP. */
  readonly insecure?: readonly string[];
  /** Allow plain HTTP to loopback registries (tests and local development only). */
  readonly allowLoopbackHttp?: boolean;
  /** registry → mirror hosts tried in order before the registry itself. */
  readonly mirrors?: Readonly<Record<string, readonly string[]>>;
  /** Largest manifest accepted, bytes (default 4 MiB). */
  readonly maxManifestBytes?: number;
}

/** A fetched, verified manifest. */
export interface FetchedManifest {
  readonly bytes: Buffer;
  readonly digest: string;
  readonly contentType: string;
  /** The endpoint that served it (a mirror or the registry), reused for the blobs. */
  readonly endpoint: string;
}

/** Talks to registries for pulls; caches challenges and tokens per endpoint. Reusable, concurrent-safe. */
export class RegistryClient {
  #o: RegistryClientOptions;
  #tokens = new TokenCache();
  #challenges = new Map<string, Challenge>(); // endpoint → last challenge, to send auth up front

  constructor(options: RegistryClientOptions = {}) {
    this.#o = options;
  }

  /**
   * Fetches the manifest `reference` (tag or digest) of `ref`'s repository, verifying the
   * digest when pinned and the size limit while reading. Mirrors are tried first; the
   * error of the registry itself is the one reported.
   */
  async manifest(ref: ImageReference, reference: string, auth?: AuthConfig): Promise<FetchedManifest> {
    const mirrors = this.#o.mirrors?.[ref.registry] ?? [];
    for (const mirror of mirrors) {
      try {
        return await this.#manifestFrom(mirror, ref, reference, auth);
      } catch {
        // fall through to the next mirror, then to the registry itself
      }
    }
    return this.#manifestFrom(apiHost(ref.registry), ref, reference, auth);
  }

  async #manifestFrom(endpoint: string, ref: ImageReference, reference: string, auth?: AuthConfig): Promise<FetchedManifest> {
    const res = await this.#request(endpoint, ref, `/manifests/${reference}`, { accept: MANIFEST_ACCEPT }, auth);
    const limit = this.#o.maxManifestBytes ?? 4 << 20;
    const declared = Number(res.header('content-length') ?? '0');
    const tooBig = () => new BurstletError('IMAGE_TOO_LARGE', `image ${show(ref)}: manifest is larger than the ${limit}-byte limit`, { details: { image: show(ref) } });
    if (declared > limit) {
      res.discard();
      throw tooBig();
    }
    const parts: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body) {
      size += chunk.length;
      if (size > limit) {
        res.discard();
        throw tooBig();
      }
      parts.push(Buffer.from(chunk));
    }
    const bytes = Buffer.concat(parts);
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    if (reference.startsWith('sha256:') && digest !== reference) {
      throw new BurstletError('IMAGE_DIGEST_MISMATCH', `image ${show(ref)}: manifest hashes to ${digest}, not ${reference}`, { details: { image: show(ref) } });
    }
    return { bytes, digest, contentType: res.header('content-type') ?? '', endpoint };
  }

  /**
   * `GET /v2/`: checks the registry answers the distribution API and accepts `auth` (a
   * health check for configured registries). Throws IMAGE_AUTH_FAILED / IMAGE_PULL_FAILED.
   */
  async ping(registry: string, auth?: AuthConfig): Promise<void> {
    const res = await this.#request(apiHost(registry), undefined, '', {}, auth);
    res.discard();
  }

  /** A resumable source for one blob, for the content store. */
  blobSource(endpoint: string, ref: ImageReference, digest: string, auth?: AuthConfig): BlobSource {
    return {
      open: async (offset) => {
        const headers: Record<string, string> = offset > 0 ? { range: `bytes=${offset}-` } : {};
        const res = await this.#request(endpoint, ref, `/blobs/${digest}`, headers, auth, blobGet);
        const from = res.status === 206 ? rangeStart(res.header('content-range')) : 0;
        return { offset: from, body: interruptible(res, digest) };
      },
    };
  }

  #base(endpoint: string): string {
    const plain = this.#o.insecure?.includes(endpoint) || (this.#o.allowLoopbackHttp === true && isLoopbackHost(endpoint));
    return `${plain ? 'http' : 'https'}://${endpoint}`;
  }

  /** GET with auth: answers one 401 challenge, then fails clearly (no retry storm). */
  async #request(endpoint: string, ref: ImageReference | undefined, path: string, headers: Record<string, string>, auth?: AuthConfig, get = httpGet): Promise<HttpResponse> {
    const url = ref ? `${this.#base(endpoint)}/v2/${ref.repository}${path}` : `${this.#base(endpoint)}/v2/`;
    const scope = ref ? `repository:${ref.repository}:pull` : '';
    let challenge = this.#challenges.get(endpoint);
    for (let round = 0; ; round++) {
      const authorization = challenge ? await this.#authorization(endpoint, challenge, scope, auth) : undefined;
      let res: HttpResponse;
      try {
        res = await get(url, { 'user-agent': 'burstlet', ...headers, ...(authorization ? { authorization } : {}) });
      } catch (err) {
        throw new BurstletError('IMAGE_PULL_FAILED', `registry ${endpoint} unreachable for ${show(ref)}: ${causeText(err)}`, { cause: err, details: { registry: endpoint } });
      }
      if (res.status === 401 && round === 0) {
        const fresh = parseChallenge(res.header('www-authenticate') ?? null);
        res.discard();
        if (fresh) {
          if (challenge) this.#tokens.clear(); // a token we trusted was refused: fetch anew
          challenge = fresh;
          this.#challenges.set(endpoint, fresh);
          continue;
        }
      }
      if (res.status >= 200 && res.status < 300) return res;
      throw await failure(res, endpoint, ref, auth);
    }
  }

  async #authorization(endpoint: string, challenge: Challenge, scope: string, auth?: AuthConfig): Promise<string | undefined> {
    if (challenge.scheme === 'bearer') return `Bearer ${await this.#tokens.token(endpoint, challenge, scope, auth)}`;
    const creds = userPass(auth);
    return creds ? `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}` : undefined;
  }
}

function show(ref: ImageReference | undefined): string {
  if (!ref) return 'the registry API';
  return `${ref.registry}/${ref.repository}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

function causeText(err: unknown): string {
  const e = err as Error & { cause?: Error };
  return e.cause?.message ? `${e.message} (${e.cause.message})` : e.message;
}

function rangeStart(header: string | undefined): number {
  const m = /^bytes (\d+)-/.exec(header ?? '');
  return m ? Number(m[1]) : 0;
}

/** The response body as chunks; a broken connection becomes TransferInterrupted. */
async function* interruptible(res: HttpResponse, digest: string): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of res.body) yield chunk;
  } catch (err) {
    throw new TransferInterrupted(`${digest}: ${causeText(err)}`);
  }
}

/** Maps a registry error response to the catalogue, quoting the registry's own message. */
async function failure(res: HttpResponse, endpoint: string, ref: ImageReference | undefined, auth?: AuthConfig): Promise<BurstletError> {
  const text = (await res.text().catch(() => '')).slice(0, 4096);
  let message = `HTTP ${res.status}`;
  try {
    const errors = (JSON.parse(text) as { errors?: { code?: string; message?: string }[] }).errors ?? [];
    if (errors.length) message = errors.map((e) => [e.code, e.message].filter(Boolean).join(': ')).join('; ');
  } catch {
    // not a distribution error body
  }
  const details = { registry: endpoint, image: show(ref), status: res.status };
  if (res.status === 401 || res.status === 403) {
    const who = userPass(auth)?.username;
    return new BurstletError('IMAGE_AUTH_FAILED', `registry ${endpoint}: authentication failed for ${show(ref)}${who ? ` as "${who}"` : ' (no credentials)'}: ${message}`, { details });
  }
  if (res.status === 404) return new BurstletError('IMAGE_NOT_FOUND', `image ${show(ref)} not found in registry ${endpoint}: ${message}`, { details });
  return new BurstletError('IMAGE_PULL_FAILED', `registry ${endpoint} failed for ${show(ref)}: ${message}`, { details });
}
