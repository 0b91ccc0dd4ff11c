// PodJobs for runtime tests.
import { randomUUID } from 'node:crypto';
import type { ContainerSpec, PodJob } from '../../../../src/schema/pod-job.ts';

export function testPod(containers: ContainerSpec[], more: Partial<PodJob> = {}): PodJob {
  const uid = randomUUID();
  return {
    version: 1, uid, namespace: 'test', name: `pod-${uid.slice(0, 8)}`, pool: 'default', enqueuedAt: Date.now(),
    restartPolicy: 'Never', containers, ...more,
  };
}

export const b64 = (s: string) => Buffer.from(s).toString('base64');
