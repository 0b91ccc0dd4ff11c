/**
 * Resources → linux.resources, the kubelet's conversions: cpu limit → CFS quota over a
 * 100 ms period, cpu request → shares (1024 per core, at least 2; runc maps shares to
 * cpu.weight on cgroup v2), memory limit → memory.limit, pids → pids.limit.
 */
import type { ResourceAmounts } from '../../../src/schema/pod-job.ts';
import type { SpecOption } from './oci.ts';

export const CPU_PERIOD_US = 100_000;
const MIN_SHARES = 2;
const MIN_QUOTA_US = 1_000;

/** cpu shares for a request in millicores (kubelet MilliCPUToShares). */
export function milliCpuToShares(millis: number): number {
  return Math.max(MIN_SHARES, Math.floor((millis * 1024) / 1000));
}

/** CFS quota for a limit in millicores (kubelet MilliCPUToQuota). */
export function milliCpuToQuota(millis: number): number {
  return Math.max(MIN_QUOTA_US, Math.floor((millis * CPU_PERIOD_US) / 1000));
}

/** Applies a container's limits and requests; a request defaults to the limit (API defaulting). */
export function withResources(requests: ResourceAmounts | undefined, limits: ResourceAmounts | undefined): SpecOption {
  return (spec) => {
    const r = spec.linux.resources;
    const cpuRequest = requests?.cpuMillis ?? limits?.cpuMillis;
    r.cpu = { shares: milliCpuToShares(cpuRequest ?? 0) };
    if (limits?.cpuMillis) {
      r.cpu.quota = milliCpuToQuota(limits.cpuMillis);
      r.cpu.period = CPU_PERIOD_US;
    }
    if (limits?.memoryBytes) r.memory = { limit: limits.memoryBytes, swap: limits.memoryBytes };
    const pids = limits?.pids ?? requests?.pids;
    if (pids) r.pids = { limit: pids };
  };
}
