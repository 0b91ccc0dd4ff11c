/**
 * Reading a container's log stream (keys.logs(uid, container); logRecord JSON in field `m`):
 * the stored history (with since/tail filtering) and then, for follow, new records as they
 * arrive. Records are validated; malformed ones go to dead-letter and are skipped.
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../../src/log.ts';
import { logRecord, type LogRecord } from '../../src/schema/streams.ts';
import { parseEntry } from '../../src/streams.ts';
import { rangeBackward, rangeForward, readAfter, type StreamEntry } from './stream-read.ts';

const CHUNK = 1000;

export interface LogStreamContext {
  readonly redis: Redis;
  readonly key: string;
  readonly deadLetter: string;
  readonly log: Logger;
  /** Which container instances to show (by restart count). */
  readonly attempt: (attempt: number) => boolean;
  readonly sinceMs?: number;
}

/**
 * Receives records in order; returns false to stop reading (byte limit reached, client gone).
 * May return a promise to apply backpressure (a slow client holds the reading back).
 */
export type Emit = (record: LogRecord) => boolean | Promise<boolean>;

/** One record as the kubelet writes it: optional RFC 3339 timestamp, the text, newline unless partial. */
export function formatRecord(record: LogRecord, timestamps: boolean): string {
  return `${timestamps ? `${record.ts} ` : ''}${record.line}${record.tag === 'F' ? '\n' : ''}`;
}

// ts holds up to nanoseconds; Date.parse keeps milliseconds, which is all `since` needs.
const tsMillis = (ts: string): number => Date.parse(ts);

async function decode(ctx: LogStreamContext, entries: StreamEntry[]): Promise<LogRecord[]> {
  const out: LogRecord[] = [];
  const parseCtx = { redis: ctx.redis, deadLetter: ctx.deadLetter, log: ctx.log, source: ctx.key };
  for (const [id, fields] of entries) {
    const r = await parseEntry(parseCtx, logRecord, id, fields);
    if (r && ctx.attempt(r.attempt) && (ctx.sinceMs === undefined || tsMillis(r.ts) >= ctx.sinceMs)) out.push(r);
  }
  return out;
}

/**
 * Emits the stored records (the last `tailLines` of them when given) and returns the id of
 * the newest entry looked at, from which a follow continues ('0-0' for an empty stream).
 */
export async function emitHistory(ctx: LogStreamContext, tailLines: number | undefined, emit: Emit): Promise<{ lastId: string; stopped: boolean }> {
  if (tailLines !== undefined) return emitTail(ctx, tailLines, emit);
  let lastId = '0-0';
  for (let start = '-'; ; start = `(${lastId}`) {
    const entries = await rangeForward(ctx.redis, ctx.key, start, CHUNK);
    if (entries.length === 0) return { lastId, stopped: false };
    lastId = entries[entries.length - 1]![0];
    for (const r of await decode(ctx, entries)) if (!(await emit(r))) return { lastId, stopped: true };
  }
}

// Walks backwards until enough matching records are found, then emits them oldest first.
async function emitTail(ctx: LogStreamContext, tailLines: number, emit: Emit): Promise<{ lastId: string; stopped: boolean }> {
  let lastId = '0-0';
  const picked: LogRecord[][] = [];
  let count = 0;
  for (let end = '+'; count < tailLines; ) {
    const entries = await rangeBackward(ctx.redis, ctx.key, end, CHUNK);
    if (entries.length === 0) break;
    if (end === '+') lastId = entries[0]![0];
    end = `(${entries[entries.length - 1]![0]}`;
    const records = (await decode(ctx, entries)).slice(0, tailLines - count);
    picked.push(records);
    count += records.length;
  }
  const ordered = picked.flat().reverse();
  for (const r of ordered) if (!(await emit(r))) return { lastId, stopped: true };
  return { lastId, stopped: false };
}

/**
 * Emits records appended after `lastId` until `emit` refuses, `stopped()` turns true, or
 * `done()` says the container ended (then whatever is left is drained). Blocks in Redis on
 * `blocking`, a connection of its own; disconnecting it ends the wait at once.
 */
export async function emitFollow(
  ctx: LogStreamContext & { blocking: Redis; blockMs: number; done: () => Promise<boolean>; stopped: () => boolean },
  lastId: string,
  emit: Emit,
): Promise<void> {
  let ended = await ctx.done();
  while (!ctx.stopped()) {
    const entries = await readAfter(ctx.blocking, ctx.key, lastId, CHUNK, ended ? 0 : ctx.blockMs);
    if (entries.length > 0) {
      lastId = entries[entries.length - 1]![0];
      for (const r of await decode(ctx, entries)) if (!(await emit(r))) return;
      continue;
    }
    if (ended) return;
    // Nothing new for a while: one more pass after the container ended drains the tail.
    ended = await ctx.done();
  }
}
