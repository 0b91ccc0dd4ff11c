/**
 * Plain reads of Redis streams for the kubelet API (log history, log follow, exec output).
 * Replies are normalised to `[id, fields][]` whichever RESP shape the client returns.
 */
import type { Redis } from 'ioredis';

export type StreamEntry = [id: string, fields: string[]];

/** Entries of one stream after `afterId`, waiting up to `blockMs` for some (0 = don't wait). */
export async function readAfter(redis: Redis, key: string, afterId: string, count: number, blockMs: number): Promise<StreamEntry[]> {
  const block = blockMs > 0 ? ['BLOCK', blockMs] : [];
  const reply = await redis.call('XREAD', 'COUNT', count, ...block, 'STREAMS', key, afterId);
  return firstStream(reply);
}

/** Up to `count` entries from `start` (inclusive; '-' = oldest, '(' prefix = exclusive) upwards. */
export async function rangeForward(redis: Redis, key: string, start: string, count: number): Promise<StreamEntry[]> {
  return (await redis.call('XRANGE', key, start, '+', 'COUNT', count)) as StreamEntry[];
}

/** Up to `count` entries from `end` ('+' = newest, '(' prefix = exclusive) downwards. */
export async function rangeBackward(redis: Redis, key: string, end: string, count: number): Promise<StreamEntry[]> {
  return (await redis.call('XREVRANGE', key, end, '-', 'COUNT', count)) as StreamEntry[];
}

// XREAD answers [[key, entries]] (RESP2), [key, entries] (RESP3 map flattened) or null.
function firstStream(reply: unknown): StreamEntry[] {
  if (!Array.isArray(reply) || reply.length === 0) return [];
  if (Array.isArray(reply[0])) return ((reply[0] as unknown[])[1] as StreamEntry[]) ?? [];
  if (reply.length >= 2 && Array.isArray(reply[1])) return reply[1] as StreamEntry[];
  if (typeof reply[0] === 'object' && reply[0] !== null) return Object.values(reply[0] as Record<string, StreamEntry[]>)[0] ?? [];
  return [];
}
