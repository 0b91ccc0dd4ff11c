/**
 * Validated reading of Redis streams. Every message read from Redis goes through a schema;
 * a malformed one is logged with its id, copied to the dead-letter stream with the error and
 * acknowledged — it never crashes the reader and is never silently dropped.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Validator } from './schema/validate.ts';

/** Messages are stored as one field `m` holding JSON. */
export const FIELD = 'm';

export interface DeadLetter {
  readonly source: string;
  readonly id: string;
  readonly error: string;
  readonly payload: string;
}

/** Appends a message to a stream as JSON; returns its id. */
export async function publish(redis: Redis, stream: string, message: unknown, maxLen?: number): Promise<string> {
  const args: (string | number)[] = maxLen === undefined ? [] : ['MAXLEN', '~', maxLen];
  const id = await redis.xadd(stream, ...(args as ['MAXLEN', '~', number]), '*', FIELD, JSON.stringify(message));
  return id ?? '';
}

/** Parses and validates one stream entry; on failure moves it to dead-letter and returns undefined. */
export async function parseEntry<T>(
  ctx: { redis: Redis; deadLetter: string; log: Logger; source: string },
  validate: Validator<T>,
  id: string,
  fields: string[],
): Promise<T | undefined> {
  const raw = fieldValue(fields, FIELD);
  try {
    if (raw === undefined) throw new Error(`no field "${FIELD}"`);
    return validate(JSON.parse(raw));
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    ctx.log.warn({ stream: ctx.source, id, err: error }, 'malformed message moved to dead-letter');
    await ctx.redis.xadd(ctx.deadLetter, '*', 'source', ctx.source, 'id', id, 'error', error, 'payload', raw ?? JSON.stringify(fields));
    return undefined;
  }
}

function fieldValue(fields: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

export interface GroupReaderOptions<T> {
  redis: Redis;
  stream: string;
  group: string;
  consumer: string;
  deadLetter: string;
  validate: Validator<T>;
  log: Logger;
  /** Handles one valid message; throwing leaves it pending (redelivered on restart). */
  handle(message: T, id: string): Promise<void>;
  blockMs?: number;
  count?: number;
}

/**
 * Reads a stream in a consumer group until `stop()`: first this consumer's own pending
 * entries (left from a crash), then new ones. At-least-once: an entry is acknowledged only
 * after `handle` resolved (or after it was dead-lettered).
 */
export class GroupReader<T> {
  readonly #o: GroupReaderOptions<T>;
  #stopped = false;
  #loop: Promise<void> | undefined;

  constructor(options: GroupReaderOptions<T>) {
    this.#o = options;
  }

  async start(): Promise<void> {
    const { redis, stream, group } = this.#o;
    try {
      await redis.xgroup('CREATE', stream, group, '0', 'MKSTREAM');
    } catch (err) {
      if (!String(err).includes('BUSYGROUP')) throw err;
    }
    this.#loop = this.#run();
  }

  /** Reads and handles one batch; returns how many entries it saw. Exposed for tests. */
  async readOnce(from: '0' | '>'): Promise<number> {
    const o = this.#o;
    const res = (await o.redis.xreadgroup(
      'GROUP', o.group, o.consumer, 'COUNT', o.count ?? 100,
      ...((from === '>' ? ['BLOCK', o.blockMs ?? 1000] : []) as ['BLOCK', number]),
      'STREAMS', o.stream, from,
    )) as [string, [string, string[]][]][] | null;
    const entries = res?.[0]?.[1] ?? [];
    for (const [id, fields] of entries) await this.#one(id, fields);
    return entries.length;
  }

  async #one(id: string, fields: string[]): Promise<void> {
    const o = this.#o;
    const ctx = { redis: o.redis, deadLetter: o.deadLetter, log: o.log, source: o.stream };
    const message = await parseEntry(ctx, o.validate, id, fields);
    if (message !== undefined) {
      try {
        await o.handle(message, id);
      } catch (err) {
        o.log.error({ stream: o.stream, id, err }, 'handler failed; message stays pending');
        return;
      }
    }
    await o.redis.xack(o.stream, o.group, id);
  }

  async #run(): Promise<void> {
    while (!this.#stopped && (await this.readOnce('0')) > 0);
    while (!this.#stopped) {
      try {
        await this.readOnce('>');
      } catch (err) {
        if (this.#stopped) break;
        this.#o.log.error({ err, stream: this.#o.stream }, 'stream read failed; retrying');
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  /** Stops after the current read returns (at most blockMs). */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#loop;
  }
}
