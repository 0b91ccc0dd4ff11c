/**
 * Query parameters of GET /containerLogs, decoded and validated the way the kubelet decodes
 * v1.PodLogOptions (parameter codec, then ValidatePodLogOptions).
 */
import { BurstletError } from '../../src/errors.ts';

export interface LogOptions {
  readonly follow: boolean;
  readonly previous: boolean;
  readonly timestamps: boolean;
  readonly tailLines?: number;
  readonly limitBytes?: number;
  /** Only records at or after this instant (ms since epoch), from sinceSeconds or sinceTime. */
  readonly sinceMs?: number;
}

type Query = Record<string, string | string[] | undefined>;

const first = (q: Query, name: string): string | undefined => {
  const v = q[name];
  return Array.isArray(v) ? v[0] : v;
};

// apimachinery's string → bool conversion: present and not "false"/"0" means true (even "").
const flag = (q: Query, name: string): boolean => {
  const v = first(q, name);
  return v !== undefined && !['false', '0'].includes(v.toLowerCase());
};

function integer(q: Query, name: string): number | undefined {
  const v = first(q, name);
  if (v === undefined) return undefined;
  if (!/^-?\d+$/.test(v.trim())) throw new BurstletError('INVALID_INPUT', `Unable to decode query: ${name}=${JSON.stringify(v)} is not an integer`);
  return Number(v);
}

/** Parses and validates the options; throws INVALID_INPUT (400) with the reason. `now` in ms. */
export function parseLogOptions(query: Query, now: number): LogOptions {
  const q: Query = { ...query };
  // The kubelet still honours the old `tail` parameter; "all" means no tail.
  const tail = first(q, 'tail');
  if (tail !== undefined && tail !== '') q.tailLines = tail === 'all' ? undefined : tail;
  const tailLines = integer(q, 'tailLines');
  const limitBytes = integer(q, 'limitBytes');
  const sinceSeconds = integer(q, 'sinceSeconds');
  const sinceTime = first(q, 'sinceTime');
  const invalid = (why: string) => new BurstletError('INVALID_INPUT', `Invalid request: ${why}`);
  if (tailLines !== undefined && tailLines < 0) throw invalid('tailLines must be greater than or equal to 0');
  if (limitBytes !== undefined && limitBytes < 1) throw invalid('limitBytes must be greater than 0');
  if (sinceSeconds !== undefined && sinceTime !== undefined) throw invalid('at most one of sinceTime or sinceSeconds may be specified');
  if (sinceSeconds !== undefined && sinceSeconds < 1) throw invalid('sinceSeconds must be greater than 0');
  let sinceMs: number | undefined;
  if (sinceSeconds !== undefined) sinceMs = now - sinceSeconds * 1000;
  if (sinceTime !== undefined) {
    sinceMs = Date.parse(sinceTime);
    if (!/^\d{4}-\d\d-\d\dT/.test(sinceTime) || Number.isNaN(sinceMs)) throw new BurstletError('INVALID_INPUT', `Unable to decode query: sinceTime ${JSON.stringify(sinceTime)} is not an RFC 3339 time`);
  }
  return { follow: flag(q, 'follow'), previous: flag(q, 'previous'), timestamps: flag(q, 'timestamps'), tailLines, limitBytes, sinceMs };
}
