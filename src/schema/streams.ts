/**
 * Records on the per-container log streams, the per-pod stats key and exec session streams.
 * Workers write them; the provider's kubelet API reads them (every read validated).
 */
import { array, integer, literal, number, object, optional, string, type Infer } from './validate.ts';

/** One log line (CRI log format fields). Stream capped per container (LOG_STREAM_MAXLEN). */
export const logRecord = object({
  /** RFC 3339 timestamp with nanoseconds, as in CRI logs. */
  ts: string({ min: 1 }),
  stream: literal('stdout', 'stderr'),
  /** 'F' full line, 'P' partial (line continues in the next record). */
  tag: literal('F', 'P'),
  line: string(),
  /** Restart count of the container instance that wrote it (for `logs --previous`). */
  attempt: integer({ min: 0 }),
});
export type LogRecord = Infer<typeof logRecord>;
export const LOG_STREAM_MAXLEN = 10_000;

const cpuStats = object({ usageNanoCores: optional(number({ min: 0 })), usageCoreNanoSeconds: optional(number({ min: 0 })) });
const memoryStats = object({
  workingSetBytes: optional(number({ min: 0 })),
  usageBytes: optional(number({ min: 0 })),
  rssBytes: optional(number({ min: 0 })),
  pageFaults: optional(number({ min: 0 })),
});

/** Latest stats of a pod, shaped after the kubelet's /stats/summary PodStats. */
export const podStats = object({
  uid: string({ min: 1 }),
  namespace: string({ min: 1 }),
  name: string({ min: 1 }),
  workerId: string({ min: 1 }),
  at: integer({ min: 0 }),
  cpu: optional(cpuStats),
  memory: optional(memoryStats),
  containers: array(object({ name: string({ min: 1 }), startTime: optional(string()), cpu: optional(cpuStats), memory: optional(memoryStats) })),
});
export type PodStats = Infer<typeof podStats>;
/** Stats keys expire unless refreshed (seconds). */
export const STATS_TTL_SECONDS = 60;

/** Worker → provider output of an exec session; `exit` ends the session. */
export const execOutput = object({
  kind: literal('stdout', 'stderr', 'exit', 'error'),
  dataBase64: optional(string()),
  exitCode: optional(integer()),
  message: optional(string()),
});
export type ExecOutput = Infer<typeof execOutput>;
