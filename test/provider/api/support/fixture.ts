// Shared pieces of the kubelet API tests: pods as the pod controller would hand them over,
// a PodSource over a plain map, and a per-test key prefix on one real redis-server.
import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import type { Redis } from 'ioredis';
import type { PodSource } from '../../../../provider/api/deps.ts';
import { redisKeys, type Keys } from '../../../../src/keys.ts';
import { LOG_STREAM_MAXLEN, type LogRecord, type PodStats } from '../../../../src/schema/streams.ts';
import { publish } from '../../../../src/streams.ts';

let counter = 0;
/** A key prefix no other test (or test process) uses. */
export const uniqueKeys = (): Keys => redisKeys(`kapi${process.pid}x${++counter}`);

export interface PodShape {
  namespace?: string;
  name: string;
  uid?: string;
  containers?: string[];
  phase?: string;
  statuses?: V1ContainerStatus[];
}

export function pod(shape: PodShape): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { namespace: shape.namespace ?? 'default', name: shape.name, uid: shape.uid ?? `uid-${shape.name}` },
    spec: { nodeName: 'burstlet', containers: (shape.containers ?? ['main']).map((name) => ({ name, image: 'busybox' })) },
    status: { phase: shape.phase ?? 'Running', containerStatuses: shape.statuses },
  };
}

export const running = (name: string, restartCount = 0): V1ContainerStatus =>
  ({ name, image: 'busybox', imageID: '', ready: true, restartCount, state: { running: { startedAt: new Date(0) } } }) as V1ContainerStatus;

export const terminated = (name: string, restartCount = 0): V1ContainerStatus =>
  ({ name, image: 'busybox', imageID: '', ready: false, restartCount, state: { terminated: { exitCode: 0 } } }) as V1ContainerStatus;

/** A PodSource over a map the test can change while requests run. */
export class MapPods implements PodSource {
  readonly byKey = new Map<string, V1Pod>();
  constructor(...pods: V1Pod[]) {
    for (const p of pods) this.put(p);
  }
  put(p: V1Pod): void {
    this.byKey.set(`${p.metadata!.namespace}/${p.metadata!.name}`, p);
  }
  async listPods(): Promise<V1Pod[]> {
    return [...this.byKey.values()];
  }
  async getPod(namespace: string, name: string): Promise<V1Pod | undefined> {
    return this.byKey.get(`${namespace}/${name}`);
  }
}

/** Writes log records the way a worker does. */
export async function writeLogs(redis: Redis, keys: Keys, uid: string, container: string, records: Partial<LogRecord>[]): Promise<void> {
  for (const r of records) {
    const record: LogRecord = { ts: new Date().toISOString(), stream: 'stdout', tag: 'F', line: '', attempt: 0, ...r };
    await publish(redis, keys.logs(uid, container), record, LOG_STREAM_MAXLEN);
  }
}

/** Polls `check` until it returns true (generous deadline; never a timing assertion). */
export async function eventually(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const AT = Date.parse('2026-03-04T05:06:07.000Z');

/** A snapshot as a worker writes it: two containers, no pod totals (summed by the API). */
export const snapshot = (name: string, cpuSeconds: number, memory: number): PodStats => ({
  uid: `uid-${name}`, namespace: 'default', name, workerId: 'w1', at: AT,
  containers: [
    { name: 'main', startTime: '2026-03-04T05:00:00Z', cpu: { usageNanoCores: 1e8, usageCoreNanoSeconds: cpuSeconds * 1e9 }, memory: { workingSetBytes: memory, usageBytes: memory * 2 } },
    { name: 'side', cpu: { usageNanoCores: 1e7, usageCoreNanoSeconds: 1e9 }, memory: { workingSetBytes: 1000 } },
  ],
});
