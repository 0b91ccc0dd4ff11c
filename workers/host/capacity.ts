/**
 * What this host offers (allocatable, detected from the machine and overridable) and what
 * its running pods take (a ledger of their requests). Admission asks `fits` before a job
 * is claimed, so the host never overcommits.
 */
import { mkdirSync, statfsSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';
import { fits, insufficient, type Capacity } from '../../src/schema/worker.ts';

/** A pod's requests as admission counts them. */
export interface Requests {
  cpuMillis: number;
  memoryBytes: number;
}

/** Detects cpu (schedulable cores), memory and the free disk of `stateDir`; `overrides` win. */
export function detectAllocatable(stateDir: string, overrides: Partial<Capacity>, maxPods: number): Capacity {
  mkdirSync(stateDir, { recursive: true });
  const fs = statfsSync(stateDir);
  const detected: Capacity = {
    cpuMillis: availableParallelism() * 1000,
    memoryBytes: totalmem(),
    pods: maxPods,
    ephemeralStorageBytes: Number(fs.bavail) * Number(fs.bsize),
  };
  const out = { ...detected };
  for (const key of Object.keys(detected) as (keyof Capacity)[]) {
    const v = overrides[key];
    if (v !== undefined) out[key] = v;
  }
  return out;
}

/**
 * The requests of the pods this host holds. Not persisted: after a restart the host
 * rebuilds it from the pods it re-adopts.
 */
export class Ledger {
  readonly allocatable: Capacity;
  readonly #pods = new Map<string, Requests>();
  #waiters: (() => void)[] = [];

  constructor(allocatable: Capacity) {
    this.allocatable = allocatable;
  }

  used(): Capacity {
    const used: Capacity = { cpuMillis: 0, memoryBytes: 0, pods: this.#pods.size, ephemeralStorageBytes: 0 };
    for (const r of this.#pods.values()) {
      used.cpuMillis += r.cpuMillis;
      used.memoryBytes += r.memoryBytes;
    }
    return used;
  }

  fits(requests: Requests): boolean {
    return fits({ allocatable: this.allocatable, used: this.used() }, requests);
  }

  /** The scheduler's wording for why `requests` do not fit ("Insufficient cpu"), or undefined. */
  insufficient(requests: Requests): string | undefined {
    return insufficient({ allocatable: this.allocatable, used: this.used() }, requests);
  }

  hasFreeSlot(): boolean {
    return this.#pods.size < this.allocatable.pods;
  }

  has(uid: string): boolean {
    return this.#pods.has(uid);
  }

  uids(): string[] {
    return [...this.#pods.keys()];
  }

  add(uid: string, requests: Requests): void {
    this.#pods.set(uid, requests);
  }

  /** Frees a pod's share and wakes whoever waits for capacity. Idempotent. */
  release(uid: string): void {
    if (!this.#pods.delete(uid)) return;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  /** Resolves at the next `release` or after `ms`, whichever comes first. */
  changed(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiters = this.#waiters.filter((w) => w !== done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#waiters.push(done);
    });
  }

  /** Wakes every waiter now (shutdown). */
  wakeAll(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}
