/**
 * The live worker pool as the provider sees it: every WorkerInfo whose heartbeat key still
 * exists, across pools. Expired ids are pruned from the pool sets as they are found.
 */
import type { Redis } from 'ioredis';
import type { Keys } from '../src/keys.ts';
import { workerInfo, type WorkerInfo } from '../src/schema/worker.ts';

/** Live workers of every pool; malformed entries are skipped (the worker will rewrite them). */
export async function liveWorkers(redis: Redis, keys: Keys): Promise<WorkerInfo[]> {
  const poolSets: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', keys.workers('*'), 'COUNT', 500);
    cursor = next;
    poolSets.push(...batch);
  } while (cursor !== '0');
  const out: WorkerInfo[] = [];
  for (const set of poolSets) {
    const ids = await redis.smembers(set);
    if (!ids.length) continue;
    const values = await redis.mget(ids.map((id) => keys.worker(id)));
    const expired: string[] = [];
    values.forEach((raw, i) => {
      if (raw === null) return void expired.push(ids[i]!);
      try {
        out.push(workerInfo(JSON.parse(raw)));
      } catch {
        // A malformed heartbeat is not a live worker; its next heartbeat may be fine.
      }
    });
    if (expired.length) await redis.srem(set, ...expired);
  }
  return out;
}

/** Why no live worker of the pool fits the request ("0/2 workers available: Insufficient cpu"), or undefined if one fits. */
export function fitReport(workers: readonly WorkerInfo[], pool: string, request: { cpuMillis: number; memoryBytes: number }, insufficient: (w: WorkerInfo) => string | undefined): string | undefined {
  const inPool = workers.filter((w) => w.pool === pool);
  const reasons = new Map<string, number>();
  for (const w of inPool) {
    const why = insufficient(w);
    if (!why) return undefined;
    for (const r of why.split(', ')) reasons.set(r, (reasons.get(r) ?? 0) + 1);
  }
  const detail = inPool.length === 0 ? `no live worker in pool "${pool}"` : [...reasons].map(([r, n]) => `${n} ${r}`).join(', ');
  return `0/${inPool.length} workers available: ${detail}.`;
}
