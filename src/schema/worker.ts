/**
 * Worker registration and heartbeat: what a worker host declares about itself. Stored under
 * a key with a TTL; a worker whose key expired is gone.
 */
import { integer, object, optional, record, string, type Infer } from './validate.ts';

export const capacity = object({
  cpuMillis: integer({ min: 0 }),
  memoryBytes: integer({ min: 0 }),
  pods: integer({ min: 0 }),
  ephemeralStorageBytes: integer({ min: 0 }),
});

export const workerInfo = object({
  id: string({ min: 1, max: 128 }),
  pool: string({ min: 1 }),
  hostname: string(),
  os: string(),
  arch: string(),
  version: string(),
  labels: optional(record(string())),
  allocatable: capacity,
  used: capacity,
  startedAt: integer({ min: 0 }),
  heartbeatAt: integer({ min: 0 }),
  address: optional(string()),
  runtime: optional(string()),
  pressure: optional(object({
    memory: optional(string()),
    disk: optional(string()),
    pid: optional(string()),
  })),
});

export type Capacity = Infer<typeof capacity>;
export type WorkerInfo = Infer<typeof workerInfo>;

/** True when `request` fits in `allocatable - used` on every dimension (pods counts 1). */
export function fits(info: Pick<WorkerInfo, 'allocatable' | 'used'>, request: { cpuMillis: number; memoryBytes: number }): boolean {
  const free = (k: keyof Capacity) => info.allocatable[k] - info.used[k];
  return free('pods') >= 1 && free('cpuMillis') >= request.cpuMillis && free('memoryBytes') >= request.memoryBytes;
}

/** The scheduler's wording for what does not fit ("Insufficient cpu", ...), or undefined. */
export function insufficient(info: Pick<WorkerInfo, 'allocatable' | 'used'>, request: { cpuMillis: number; memoryBytes: number }): string | undefined {
  const free = (k: keyof Capacity) => info.allocatable[k] - info.used[k];
  const missing: string[] = [];
  if (free('cpuMillis') < request.cpuMillis) missing.push('Insufficient cpu');
  if (free('memoryBytes') < request.memoryBytes) missing.push('Insufficient memory');
  if (free('pods') < 1) missing.push('Too many pods');
  return missing.length ? missing.join(', ') : undefined;
}
