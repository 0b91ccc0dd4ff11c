import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BurstletError } from '../../../src/errors.ts';
import { translatePod } from '../../../provider/translate/pod-job.ts';
import { b64, pod, sourcesOf } from './fixtures.ts';

const cluster = {
  configMaps: { 'ns1/cm': { data: { color: 'blue', 'bad key': 'x' }, binaryData: { bin: b64('\u0001\u0002') } } },
  secrets: { 'ns1/sec': { data: { password: b64('hunter2') } } },
  runtimeClasses: { lambda: { handler: 'lambda' }, weird: { handler: 'Not_A_Pool' } },
};

const code = (c: string) => (err: unknown) => err instanceof BurstletError && err.code === c;

test('translatePod: env valueFrom, envFrom prefix, fieldRef, resourceFieldRef and $(VAR) expansion', async () => {
  const p = pod({
    containers: [{
      name: 'c', image: 'busybox',
      resources: { requests: { cpu: '250m', memory: '64Mi' }, limits: { cpu: '1', memory: '128Mi' } },
      envFrom: [{ configMapRef: { name: 'cm' }, prefix: 'CM_' }],
      env: [
        { name: 'A', value: 'x' },
        { name: 'B', value: '$(A)-$$(A)-$(NOPE)' },
        { name: 'PW', valueFrom: { secretKeyRef: { name: 'sec', key: 'password' } } },
        { name: 'OPT', valueFrom: { secretKeyRef: { name: 'missing', key: 'k', optional: true } } },
        { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
        { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        { name: 'MEM', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
        { name: 'CPU', valueFrom: { resourceFieldRef: { resource: 'requests.cpu', divisor: '1m' } } },
      ],
    }],
  });
  const job = await translatePod(p, sourcesOf(cluster), 42);
  const env = Object.fromEntries(job.containers[0]!.env!.map((e) => [e.name, e.value ?? `<${e.fieldPath}>`]));
  assert.deepEqual(env, {
    CM_color: 'blue', CM_bin: '\u0001\u0002', A: 'x', B: 'x-$(A)-$(NOPE)', PW: 'hunter2', POD: 'p1', APP: 'a',
    IP: '<status.podIP>', MEM: '128', CPU: '250',
  });
  assert.equal(job.uid, 'uid-1');
  assert.equal(job.pool, 'default');
  assert.equal(job.enqueuedAt, 42);
  assert.deepEqual(job.containers[0]!.requests, { cpuMillis: 250, memoryBytes: 64 * 2 ** 20 });
  assert.deepEqual(job.containers[0]!.limits, { cpuMillis: 1000, memoryBytes: 128 * 2 ** 20 });
});

test('translatePod: missing mandatory configMap/secret key → CONTAINER_CONFIG (retryable)', async () => {
  const missingObj = pod({ containers: [{ name: 'c', image: 'b', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'nope', key: 'k' } } }] }] });
  await assert.rejects(translatePod(missingObj, sourcesOf(cluster)), (err: unknown) => code('CONTAINER_CONFIG')(err) && /configmap "nope" not found/.test((err as Error).message));
  const missingKey = pod({ containers: [{ name: 'c', image: 'b', env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'sec', key: 'nokey' } } }] }] });
  await assert.rejects(translatePod(missingKey, sourcesOf(cluster)), code('CONTAINER_CONFIG'));
  const vol = pod({ volumes: [{ name: 'v', secret: { secretName: 'gone' } }] });
  await assert.rejects(translatePod(vol, sourcesOf(cluster)), code('CONTAINER_CONFIG'));
  const optionalVol = pod({ volumes: [{ name: 'v', secret: { secretName: 'gone', optional: true } }] });
  assert.deepEqual((await translatePod(optionalVol, sourcesOf(cluster))).volumes![0]!.files, []);
});

test('translatePod: configMap, secret, downwardAPI and projected volumes become files', async () => {
  const p = pod({
    serviceAccountName: 'robot',
    volumes: [
      { name: 'cm', configMap: { name: 'cm', items: [{ key: 'color', path: 'sub/color.txt', mode: 0o600 }] } },
      { name: 'sec', secret: { secretName: 'sec', defaultMode: 0o400 } },
      { name: 'dw', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } },
      { name: 'proj', projected: { sources: [
        { serviceAccountToken: { path: 'token', audience: 'vault', expirationSeconds: 600 } },
        { configMap: { name: 'cm', items: [{ key: 'color', path: 'c' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { fieldPath: 'metadata.namespace' } }] } },
      ] } },
      { name: 'scratch', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } },
    ],
  });
  const job = await translatePod(p, sourcesOf(cluster));
  const byName = Object.fromEntries(job.volumes!.map((v) => [v.name, v]));
  assert.deepEqual(byName.cm!.files, [{ path: 'sub/color.txt', contentBase64: b64('blue'), mode: 0o600 }]);
  assert.equal(byName.sec!.defaultMode, 0o400);
  assert.equal(Buffer.from(byName.sec!.files![0]!.contentBase64, 'base64').toString(), 'hunter2');
  assert.equal(Buffer.from(byName.dw!.files![0]!.contentBase64, 'base64').toString(), 'app="a"');
  const proj = byName.proj!.files!.map((f) => [f.path, Buffer.from(f.contentBase64, 'base64').toString()]);
  assert.deepEqual(proj, [['token', 'token-for-uid-1-vault'], ['c', 'blue'], ['namespace', 'ns1']]);
  assert.deepEqual(byName.scratch, { name: 'scratch', type: 'emptyDir', medium: 'Memory', sizeLimitBytes: 2 ** 20 });
  assert.equal(job.serviceAccountName, 'robot');
});

test('translatePod: unsupported features fail with POD_UNSUPPORTED naming the feature', async () => {
  const pvc = pod({ volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'x' } }] });
  await assert.rejects(translatePod(pvc, sourcesOf(cluster)), (err: unknown) => code('POD_UNSUPPORTED')(err) && /persistentVolumeClaim/.test((err as Error).message));
  const windows = pod({ os: { name: 'windows' } });
  await assert.rejects(translatePod(windows, sourcesOf(cluster)), code('POD_UNSUPPORTED'));
  const ipFile = pod({ volumes: [{ name: 'd', downwardAPI: { items: [{ path: 'ip', fieldRef: { fieldPath: 'status.podIP' } }] } }] });
  await assert.rejects(translatePod(ipFile, sourcesOf(cluster)), code('POD_UNSUPPORTED'));
});

test('translatePod: RuntimeClass handler picks the pool; a missing RuntimeClass is retryable', async () => {
  assert.equal((await translatePod(pod({ runtimeClassName: 'lambda' }), sourcesOf(cluster))).pool, 'lambda');
  await assert.rejects(translatePod(pod({ runtimeClassName: 'absent' }), sourcesOf(cluster)), code('CONTAINER_CONFIG'));
  await assert.rejects(translatePod(pod({ runtimeClassName: 'weird' }), sourcesOf(cluster)), code('POD_UNSUPPORTED'));
});

test('translatePod: imagePullSecrets become registry credentials; a missing one is skipped', async () => {
  const dockerconfig = { auths: { 'registry.example:5000': { auth: b64('alice:s3cret') }, 'https://index.docker.io/v1/': { username: 'bob', password: 'pw' } } };
  const secrets = { 'ns1/pull': { type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': b64(JSON.stringify(dockerconfig)) } } };
  const p = pod({ imagePullSecrets: [{ name: 'pull' }, { name: 'absent' }] });
  const job = await translatePod(p, sourcesOf({ ...cluster, secrets }));
  assert.deepEqual(job.imagePullCredentials, [
    { registry: 'registry.example:5000', username: 'alice', password: 's3cret' },
    { registry: 'docker.io', username: 'bob', password: 'pw' },
  ]);
});

test('translatePod: an invalid pod (bad quantity) is INVALID_INPUT, not a crash', async () => {
  const p = pod({ containers: [{ name: 'c', image: 'b', resources: { limits: { cpu: 'lots' } } }] });
  await assert.rejects(translatePod(p, sourcesOf(cluster)), code('INVALID_INPUT'));
});
