import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BurstletError } from '../../../../src/errors.ts';
import type { PodJob } from '../../../../src/schema/pod-job.ts';
import { containerSpec } from '../../../../workers/runtime/spec/container-spec.ts';
import { bindMount } from '../../../../workers/runtime/spec/linux.ts';

const job: PodJob = {
  version: 1, uid: 'u-1', namespace: 'ns', name: 'p', pool: 'default', enqueuedAt: 0, restartPolicy: 'Never',
  securityContext: { runAsUser: 1000, fsGroup: 2000 },
  containers: [{
    name: 'app', image: 'busybox', command: ['sh', '-c', 'echo $(GREETING)'], env: [{ name: 'GREETING', value: 'hi' }],
    securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
    limits: { memoryBytes: 1 << 26, cpuMillis: 500 },
  }],
};
const image = { entrypoint: [], cmd: ['sh'], env: ['PATH=/bin'], workingDir: '', user: '', stopSignal: '' };

test('containerSpec composes every with… option from the PodJob', () => {
  const spec = containerSpec({
    job, container: job.containers[0], image, rootfs: '/r', cgroupsPath: '/burstlet/u-1/app', allowPrivileged: false,
    namespaces: { network: '/proc/7/ns/net', ipc: '/proc/7/ns/ipc', uts: '/proc/7/ns/uts' },
    mounts: [bindMount('/pod/hosts', '/etc/hosts')],
  });
  assert.deepEqual(spec.process.args, ['sh', '-c', 'echo hi']);
  assert.deepEqual(spec.process.env, ['PATH=/bin', 'GREETING=hi']);
  assert.deepEqual(spec.process.user, { uid: 1000, gid: 0, additionalGids: [2000] });
  assert.equal(spec.process.noNewPrivileges, true);
  assert.deepEqual(spec.process.capabilities.bounding, []);
  assert.equal(spec.root.path, '/r');
  assert.equal(spec.root.readonly, true);
  assert.equal(spec.linux.resources.memory!.limit, 1 << 26);
  assert.equal(spec.linux.resources.cpu!.quota, 50_000);
  assert.equal(spec.linux.cgroupsPath, '/burstlet/u-1/app');
  assert.equal(spec.hostname, undefined);
  assert.ok(spec.mounts.some((m) => m.destination === '/etc/hosts'));
  assert.equal(spec.annotations!['io.kubernetes.container.name'], 'app');
});

test('containerSpec: a privileged container is Forbidden unless the worker allows it', () => {
  const c = { ...job.containers[0], securityContext: { privileged: true } };
  const input = { job, container: c, image, rootfs: '/r', cgroupsPath: '/x', namespaces: { network: 'host', ipc: 'host', uts: 'host' }, mounts: [] };
  assert.throws(() => containerSpec({ ...input, allowPrivileged: false }), (e: unknown) => e instanceof BurstletError && e.code === 'POD_FORBIDDEN');
  assert.ok(containerSpec({ ...input, allowPrivileged: true }).process.capabilities.bounding.includes('CAP_SYS_ADMIN'));
});
