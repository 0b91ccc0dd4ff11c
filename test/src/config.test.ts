import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { providerSpec, standaloneSpec, workerSpec } from '../../src/config/commands.ts';
import { envName, flagName, helpText, loadConfig } from '../../src/config/load.ts';
import { BurstletError } from '../../src/errors.ts';

const rejects = (fn: () => unknown, pattern: RegExp) =>
  assert.throws(fn, (err: unknown) => err instanceof BurstletError && err.code === 'CONFIG_INVALID' && pattern.test(err.message));

test('names: flags are kebab-case, env vars BURSTLET_ upper snake case', () => {
  assert.equal(flagName('nodeName'), '--node-name');
  assert.equal(envName('nodeName'), 'BURSTLET_NODE_NAME');
});

test('defaults are safe: loopback listeners, no privileged pods, no hostPath', () => {
  const { values } = loadConfig(workerSpec, [], {});
  assert.equal(values.allowPrivileged, false);
  assert.equal(values.allowHostPath, false);
  assert.equal(values.pool, 'default');
  const p = loadConfig(providerSpec, [], {}).values;
  assert.deepEqual(p.listen, { host: '127.0.0.1', port: 10250 });
  assert.equal(p.qps, 50);
  assert.equal(p.burst, 100);
  assert.deepEqual(loadConfig(standaloneSpec, [], {}).values.ui, { host: '127.0.0.1', port: 8080 });
});

test('precedence: flag > env > config file > default', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'burstlet-config-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'c.yaml');
  await writeFile(file, 'qps: 7\nburst: 8\nnodeName: from-file\n');
  const env = { BURSTLET_CONFIG: file, BURSTLET_QPS: '9', BURSTLET_NODE_NAME: 'from-env' };
  const { values } = loadConfig(providerSpec, ['--node-name', 'from-flag'], env);
  assert.equal(values.nodeName, 'from-flag');
  assert.equal(values.qps, 9);
  assert.equal(values.burst, 8);
  assert.equal(values.leaseDuration, 40_000);
  const json = join(dir, 'c.json');
  await writeFile(json, JSON.stringify({ qps: 11 }));
  assert.equal(loadConfig(providerSpec, ['--config', json], {}).values.qps, 11);
});

test('flag forms: --a=b, --a b, boolean --x, --no-x, --x=false', () => {
  assert.equal(loadConfig(workerSpec, ['--pool=gpu'], {}).values.pool, 'gpu');
  assert.equal(loadConfig(workerSpec, ['--allow-privileged'], {}).values.allowPrivileged, true);
  assert.equal(loadConfig(workerSpec, ['--no-allow-privileged'], { BURSTLET_ALLOW_PRIVILEGED: 'true' }).values.allowPrivileged, false);
  assert.equal(loadConfig(workerSpec, ['--allow-privileged=false'], {}).values.allowPrivileged, false);
  assert.equal(loadConfig(workerSpec, ['--memory', '512Mi', '--cpu', '1500m'], {}).values.memory, 512 * 2 ** 20);
  assert.equal(loadConfig(workerSpec, ['--cpu', '1500m'], {}).values.cpu, 1500);
  assert.deepEqual(loadConfig(workerSpec, ['--labels', 'zone=a,tier=spot'], {}).values.labels, { zone: 'a', tier: 'spot' });
  assert.equal(loadConfig(providerSpec, ['--lease-duration', '1m'], {}).values.leaseDuration, 60_000);
});

test('every rejection names the setting, its source and the allowed form', async (t) => {
  rejects(() => loadConfig(providerSpec, ['--qps', 'abc'], {}), /--qps: "abc" — expected an integer from 1 to 10000/);
  rejects(() => loadConfig(providerSpec, [], { BURSTLET_QPS: '0' }), /BURSTLET_QPS: "0".*integer from 1/);
  rejects(() => loadConfig(providerSpec, ['--bogus'], {}), /unknown flag --bogus/);
  rejects(() => loadConfig(providerSpec, ['--node-name'], {}), /--node-name needs a value/);
  rejects(() => loadConfig(providerSpec, ['--node-name', 'Bad_Name'], {}), /--node-name.*DNS-1123/);
  rejects(() => loadConfig(providerSpec, ['--redis', 'http://x'], {}), /--redis.*redis:\/\//);
  rejects(() => loadConfig(providerSpec, ['--listen', '0.0.0.0:99999'], {}), /--listen.*HOST:PORT/);
  rejects(() => loadConfig(providerSpec, ['--lease-duration', '40'], {}), /duration like/);
  rejects(() => loadConfig(providerSpec, ['--taint', 'x=y:Sometimes'], {}), /--taint.*NoSchedule/);
  rejects(() => loadConfig(workerSpec, ['--runtime', 'docker'], {}), /one of burstlet, runc, crun/);
  rejects(() => loadConfig(workerSpec, ['--memory', 'lots'], {}), /byte quantity/);
  rejects(() => loadConfig(workerSpec, ['--cpu', '-1'], {}), /CPU quantity/);
  rejects(() => loadConfig(workerSpec, ['--allow-privileged=maybe'], {}), /true or false/);
  rejects(() => loadConfig(workerSpec, ['--labels', 'no-equals'], {}), /key=value/);
  rejects(() => loadConfig(workerSpec, ['--key-prefix', 'a b'], {}), /--key-prefix/);
  const dir = await mkdtemp(join(tmpdir(), 'burstlet-config-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'unknown.yaml'), 'nodeNmae: typo\n');
  rejects(() => loadConfig(providerSpec, ['--config', join(dir, 'unknown.yaml')], {}), /unknown setting "nodeNmae"/);
  await writeFile(join(dir, 'bad.json'), '{');
  rejects(() => loadConfig(providerSpec, ['--config', join(dir, 'bad.json')], {}), /not valid JSON/);
  await writeFile(join(dir, 'list.yaml'), '- a\n');
  rejects(() => loadConfig(providerSpec, ['--config', join(dir, 'list.yaml')], {}), /mapping/);
  rejects(() => loadConfig(providerSpec, ['--config', join(dir, 'missing.yaml')], {}), /cannot be read/);
  await writeFile(join(dir, 'badval.yaml'), 'qps: many\n');
  rejects(() => loadConfig(providerSpec, ['--config', join(dir, 'badval.yaml')], {}), /qps in .*badval.yaml: "many"/);
});

test('help lists every flag with its env var and allowed form', () => {
  const text = helpText('worker', 'summary', workerSpec);
  for (const name of Object.keys(workerSpec)) {
    assert.match(text, new RegExp(`${flagName(name)}\\b`));
    assert.match(text, new RegExp(envName(name)));
  }
  assert.match(text, /--config PATH/);
});

test('registry mirrors and insecure registries', () => {
  const v = loadConfig(workerSpec, ['--registry-mirrors', 'docker.io=127.0.0.1:5000,docker.io=m2:443', '--insecure-registries', '127.0.0.1:5000'], {}).values;
  assert.deepEqual(v.registryMirrors, { 'docker.io': ['127.0.0.1:5000', 'm2:443'] });
  assert.deepEqual(v.insecureRegistries, ['127.0.0.1:5000']);
  assert.deepEqual(loadConfig(workerSpec, [], {}).values.insecureRegistries, []);
  rejects(() => loadConfig(workerSpec, ['--registry-mirrors', 'docker.io'], {}), /REGISTRY=MIRROR/);
  rejects(() => loadConfig(workerSpec, ['--insecure-registries', 'http://x'], {}), /registry hosts/);
});
