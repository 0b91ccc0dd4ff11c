import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BurstletError } from '../../../../src/errors.ts';
import { defaultSpec } from '../../../../workers/runtime/spec/oci.ts';
import { containerVars, expandVars, mergeEnv, withProcess, type ImageDefaults } from '../../../../workers/runtime/spec/process.ts';

const image: ImageDefaults = {
  entrypoint: ['/entry.sh'], cmd: ['serve', '--port=80'], env: ['PATH=/usr/bin:/bin', 'LANG=C'],
  workingDir: '/srv', user: '', stopSignal: '',
};

function apply(container: Parameters<typeof withProcess>[0], img = image, fields = {}) {
  const spec = defaultSpec();
  withProcess(container, img, fields)(spec);
  return spec.process;
}

test('withProcess: neither command nor args runs Entrypoint + Cmd in the image workdir', () => {
  const p = apply({ name: 'c', image: 'x' });
  assert.deepEqual(p.args, ['/entry.sh', 'serve', '--port=80']);
  assert.equal(p.cwd, '/srv');
  assert.deepEqual(p.env, ['PATH=/usr/bin:/bin', 'LANG=C']);
});

test('withProcess: command replaces Entrypoint and drops Cmd; args replaces Cmd', () => {
  assert.deepEqual(apply({ name: 'c', image: 'x', command: ['/bin/sh'] }).args, ['/bin/sh']);
  assert.deepEqual(apply({ name: 'c', image: 'x', args: ['run'] }).args, ['/entry.sh', 'run']);
  assert.deepEqual(apply({ name: 'c', image: 'x', command: ['/bin/sh'], args: ['-c', 'true'] }).args, ['/bin/sh', '-c', 'true']);
});

test('withProcess: workingDir overrides the image; "/" when neither sets one', () => {
  assert.equal(apply({ name: 'c', image: 'x', workingDir: '/data' }).cwd, '/data');
  assert.equal(apply({ name: 'c', image: 'x' }, { ...image, workingDir: '' }).cwd, '/');
});

test('withProcess: container env appended after image env, overriding by name', () => {
  const p = apply({ name: 'c', image: 'x', env: [{ name: 'LANG', value: 'en_US' }, { name: 'A', value: '1' }] });
  assert.deepEqual(p.env, ['PATH=/usr/bin:/bin', 'LANG=en_US', 'A=1']);
});

test('withProcess: $(VAR) expands from earlier container vars only, $$ escapes, unknown stays', () => {
  const p = apply({
    name: 'c', image: 'x',
    env: [{ name: 'A', value: 'one' }, { name: 'B', value: '$(A)-$(PATH)-$$(A)' }],
    command: ['echo', '$(B)', '$(NOPE)'],
  });
  assert.ok(p.env.includes('B=one-$(PATH)-$(A)'));
  assert.deepEqual(p.args, ['echo', 'one-$(PATH)-$(A)', '$(NOPE)']);
  assert.equal(expandVars('$(X', new Map()), '$(X');
  assert.equal(expandVars('a$b$', new Map()), 'a$b$');
});

test('withProcess: fieldPath env gets the sandbox pod IP', () => {
  const p = apply({ name: 'c', image: 'x', env: [{ name: 'IP', fieldPath: 'status.podIP' }] }, image, { podIP: '10.1.2.3' });
  assert.ok(p.env.includes('IP=10.1.2.3'));
});

test('withProcess: no command anywhere → CreateContainerError', () => {
  assert.throws(() => apply({ name: 'c', image: 'x' }, { ...image, entrypoint: [], cmd: [] }), (err: unknown) =>
    err instanceof BurstletError && err.reason === 'CreateContainerError' && /no command/.test(err.message));
});

test('mergeEnv/containerVars: a duplicate name keeps the last value', () => {
  const own = containerVars([{ name: 'A', value: '1' }, { name: 'A', value: '2' }]);
  assert.deepEqual(mergeEnv(['A=0'], own), ['A=2']);
});
