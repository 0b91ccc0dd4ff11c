// A minimal distribution API client for tests: answers the registry's 401 challenge the way
// real clients do (Basic with the registry's credentials, or Bearer via the token realm with
// the challenged service/scope) and retries once. Used to push test images and, in tests,
// to fetch them back.
import { httpFetch, type HttpRequest, type HttpResponse } from './oci-http.ts';
import type { Registry } from './registry.ts';

/**
 * Requests against one registry with auth handled; `path` is '/v2/...' or an absolute URL
 * (an upload Location). Redirects are not followed; bodies are in memory.
 */
export interface RegistryClient {
  /** The registry's base URL, 'http://127.0.0.1:PORT'. */
  url: string;
  fetch(path: string, init?: HttpRequest): Promise<HttpResponse>;
}

export function registryClient(reg: Registry): RegistryClient {
  const tokens = new Map<string, string>();
  const basic = reg.username !== undefined
    ? `Basic ${Buffer.from(`${reg.username}:${reg.password ?? ''}`).toString('base64')}`
    : undefined;
  let lastAuth: string | undefined;
  return {
    url: reg.url,
    async fetch(path, init = {}) {
      const url = path.startsWith('http') ? path : `${reg.url}${path}`;
      const first = await httpFetch(url, withAuth(init, lastAuth));
      if (first.status !== 401) return first;
      const challenge = first.headers.get('www-authenticate') ?? '';
      await first.buffer();
      lastAuth = await answer(challenge, basic, tokens);
      return httpFetch(url, withAuth(init, lastAuth));
    },
  };
}

// Turns a WWW-Authenticate challenge into an Authorization header value.
async function answer(challenge: string, basic: string | undefined, tokens: Map<string, string>): Promise<string | undefined> {
  const scheme = challenge.split(' ', 1)[0].toLowerCase();
  if (scheme === 'basic') return basic;
  if (scheme !== 'bearer') throw new Error(`registry challenge not understood: ${challenge}`);
  const params = challengeParams(challenge);
  const key = `${params.service ?? ''} ${params.scope ?? ''}`;
  const cached = tokens.get(key);
  if (cached) return cached;
  const url = new URL(params.realm);
  if (params.service) url.searchParams.set('service', params.service);
  if (params.scope) url.searchParams.set('scope', params.scope);
  const res = await fetch(url, { headers: basic ? { authorization: basic } : {} });
  if (!res.ok) throw new Error(`token request failed: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { token?: string; access_token?: string };
  const value = `Bearer ${body.token ?? body.access_token}`;
  tokens.set(key, value);
  return value;
}

/** Parses `Bearer realm="...",service="...",scope="..."` into its quoted parameters. */
export function challengeParams(challenge: string): Record<string, string> {
  const params: Record<string, string> = {};
  for (const match of challenge.matchAll(/(\w+)="([^"]*)"/g)) params[match[1]] = match[2];
  return params;
}

function withAuth(init: HttpRequest, auth: string | undefined): HttpRequest {
  if (!auth) return init;
  return { ...init, headers: { ...init.headers, authorization: auth } };
}
