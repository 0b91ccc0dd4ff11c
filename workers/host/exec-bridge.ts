/**
 * One exec session between Redis and the runner: input records from
 * `keys.execInput(session)` (validated, malformed ones dead-lettered) go to the session's
 * stdin/resize, and the session's output goes to `keys.execOutput(session)` until its `exit`.
 * A session that cannot start writes one `error` record, which ends it too.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Keys } from '../../src/keys.ts';
import { execInput, type ExecStart } from '../../src/schema/control.ts';
import type { ExecOutput } from '../../src/schema/streams.ts';
import { parseEntry, publish } from '../../src/streams.ts';
import type { ExecSession, PodRunner } from '../pod-runner.ts';

/** Output streams outlive their session this long, for a provider that reads late. */
const OUTPUT_TTL_SECONDS = 3600;
const OUTPUT_MAXLEN = 10_000;

/** What one exec session needs; the bridge opens (and closes) its own input connection. */
export interface ExecBridgeOptions {
  runner: Pick<PodRunner, 'exec'>;
  /** Non-blocking commands (output). */
  redis: Redis;
  keys: Keys;
  log: Logger;
  /** Told when the session starts and ends (undefined), to route `exec-input` from the control stream. */
  onSession?(sessionId: string, session: ExecSession | undefined): void;
}

/** Runs one session to its end; never rejects. */
export async function bridgeExec(o: ExecBridgeOptions, start: ExecStart): Promise<void> {
  const out = o.keys.execOutput(start.sessionId);
  const write = (record: ExecOutput) => publish(o.redis, out, record, OUTPUT_MAXLEN);
  let session: ExecSession;
  try {
    session = await o.runner.exec(start.uid, start.container, start.command, { stdin: start.stdin, tty: start.tty });
  } catch (err) {
    await write({ kind: 'error', message: err instanceof Error ? err.message : String(err) }).catch(() => undefined);
    await o.redis.expire(out, OUTPUT_TTL_SECONDS).catch(() => undefined);
    return;
  }
  const input = start.stdin || start.tty ? pumpInput(o, start.sessionId, session) : undefined;
  o.onSession?.(start.sessionId, session);
  try {
    for await (const record of session.output) {
      await write(record);
      if (record.kind === 'exit') break;
    }
  } catch (err) {
    o.log.warn({ err, session: start.sessionId }, 'exec output failed');
    await write({ kind: 'error', message: String(err) }).catch(() => undefined);
  } finally {
    o.onSession?.(start.sessionId, undefined);
    await input?.stop();
    await o.redis.expire(out, OUTPUT_TTL_SECONDS).catch(() => undefined);
  }
}

/** Applies one input record to a session. */
export function applyInput(session: ExecSession, record: { dataBase64?: string; close?: boolean; resize?: { width: number; height: number } }): void {
  if (record.dataBase64) session.write(Buffer.from(record.dataBase64, 'base64'));
  if (record.resize) session.resize(record.resize.width, record.resize.height);
  if (record.close) session.closeStdin();
}

/** Reads the input stream on its own connection (XREAD BLOCK) until stopped. */
function pumpInput(o: ExecBridgeOptions, sessionId: string, session: ExecSession): { stop(): Promise<void> } {
  // Its own connection, connecting now and waiting out Redis blips (the host's command
  // connection is lazy and fails fast).
  const conn = o.redis.duplicate({ lazyConnect: false, enableOfflineQueue: true, maxRetriesPerRequest: null });
  conn.on('error', () => undefined);
  const stream = o.keys.execInput(sessionId);
  const ctx = { redis: o.redis, deadLetter: o.keys.deadLetter, log: o.log, source: stream };
  let stopped = false;
  const loop = (async () => {
    let last = '0';
    while (!stopped) {
      try {
        const res = (await conn.xread('COUNT', 100, 'BLOCK', 500, 'STREAMS', stream, last)) as [string, [string, string[]][]][] | null;
        for (const [id, fields] of res?.[0]?.[1] ?? []) {
          last = id;
          const record = await parseEntry(ctx, execInput, id, fields);
          if (record) applyInput(session, record);
        }
      } catch (err) {
        if (stopped) break;
        o.log.warn({ err, session: sessionId }, 'exec input read failed; retrying');
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      conn.disconnect();
    },
  };
}
