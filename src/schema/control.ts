/**
 * Control messages from the provider to one worker (stop a pod, exec sessions). Carried on
 * the worker's control stream; each is idempotent (stop twice = stop once).
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

export const controlMessage = union('kind', { stop: stopPod, exec: execStart, 'exec-input': execInput });

export type ControlMessage = Infer<typeof controlMessage>;
export type StopPod = Infer<typeof stopPod>;
export type ExecStart = Infer<typeof execStart>;
