/**
 * Control messages from the provider to one worker (stop a pod, exec sessions, a refreshed
 * service-account token). Carried on the worker's control stream; each is idempotent (stop
 * twice = stop once, the same token written twice = written once). A worker older than a
 * kind refuses it through validation (dead-letter naming the kinds it knows), never crashes.
 */
import { array, boolean, integer, literal, object, optional, string, union, type Infer } from './validate.ts';

export const stopPod = object({
  kind: literal('stop'),
  uid: string({ min: 1 }),
  gracePeriodSeconds: integer({ min: 0 }),
  reason: optional(string()),
});

export const execStart = object({
  kind: literal('exec'),
  uid: string({ min: 1 }),
  sessionId: string({ min: 1 }),
  container: string({ min: 1 }),
  command: array(string(), { max: 4096 }),
  stdin: boolean(),
  tty: boolean(),
});

export const execInput = object({
  kind: literal('exec-input'),
  sessionId: string({ min: 1 }),
  dataBase64: optional(string()),
  close: optional(boolean()),
  resize: optional(object({ width: integer({ min: 0 }), height: integer({ min: 0 }) })),
});

/**
 * A new token for a projected serviceAccountToken source of a running pod (the provider
 * refreshes it at 80 % of its lifetime): the worker replaces the file `path` of the pod's
 * volume `volume` atomically, keeping its mode; a file the volume does not have is refused.
 */
export const tokenRefresh = object({
  kind: literal('token'),
  uid: string({ min: 1 }),
  /** The volume's name: a DNS label, as the API server validates it (never a path). */
  volume: string({ min: 1, max: 63, pattern: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/ }),
  path: string({ min: 1, max: 4096 }),
  token: string({ min: 1 }),
  /** Expiry of the token, ms since the epoch (a worker never replaces a token by an older one). */
  expiresAt: integer({ min: 0 }),
});

export const controlMessage = union('kind', { stop: stopPod, exec: execStart, 'exec-input': execInput, token: tokenRefresh });

export type ControlMessage = Infer<typeof controlMessage>;
export type StopPod = Infer<typeof stopPod>;
export type ExecStart = Infer<typeof execStart>;
export type TokenRefresh = Infer<typeof tokenRefresh>;
