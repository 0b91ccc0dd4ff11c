/**
 * UI exposure rules: on loopback the UI may be open (read-only job views); bound anywhere
 * else it needs a token or basic auth, or startup refuses. Job actions always need auth.
 */
import { timingSafeEqual } from 'node:crypto';
import { BurstletError } from '../../src/errors.ts';

export interface UiAuth {
  /** Bearer token (header `Authorization: Bearer T`, or `?token=T` for browser links/SSE). */
  token?: string;
  /** `user:password` for basic auth. */
  basic?: string;
}

export const isLoopback = (host: string) => host === 'localhost' || host === '::1' || /^127\./.test(host);

/** Throws CONFIG_INVALID when the UI would be reachable beyond loopback without auth. */
export function checkExposure(host: string, auth: UiAuth): void {
  if (!isLoopback(host) && !auth.token && !auth.basic) {
    throw new BurstletError('CONFIG_INVALID', `the UI would listen on ${host}, beyond loopback, without auth: set --ui-token (BURSTLET_UI_TOKEN) or --ui-basic-auth USER:PASSWORD, or bind it to 127.0.0.1`);
  }
}

const same = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** True when the request carries the configured credentials (or none are configured). */
export function authorized(auth: UiAuth, header: string | undefined, queryToken: string | undefined): boolean {
  if (!auth.token && !auth.basic) return true;
  if (auth.token && queryToken && same(queryToken, auth.token)) return true;
  if (!header) return false;
  const [scheme, value = ''] = header.split(' ', 2);
  if (auth.token && scheme?.toLowerCase() === 'bearer') return same(value, auth.token);
  if (auth.basic && scheme?.toLowerCase() === 'basic') return same(Buffer.from(value, 'base64').toString(), auth.basic);
  return false;
}

export const hasAuth = (auth: UiAuth) => Boolean(auth.token || auth.basic);
