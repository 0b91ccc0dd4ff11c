import assert from 'node:assert/strict';
import { test } from 'node:test';
import { containerProcess, expandVars, parseImageConfig, type ImageConfig } from '../../workers/image/image-config.ts';

const diff = `sha256:${'d'.repeat(64)}`;
const image: ImageConfig = parseImageConfig('img', Buffer.from(JSON.stringify({
  os: 'linux', architecture: 'amd64', rootfs: { type: 'layers', diff_ids: [diff] },
  config: {
    Entrypoint: ['/entry'], Cmd: ['--default'], Env: ['PATH=/bin', 'A=image'], WorkingDir: '/app', User: '1000:1000',
    StopSignal: 'SIGQUIT', ExposedPorts: { '80/tcp': {} },
  },
})));

test('image config keeps what containers need', () => {
  assert.deepEqual(image.entrypoint, ['/entry']);
  assert.deepEqual(image.cmd, ['--default']);
  assert.equal(image.stopSignal, 'SIGQUIT');
  assert.deepEqual(image.exposedPorts, ['80/tcp']);
  assert.equal(image.user, '1000:1000');
  assert.deepEqual(image.diffIds, [diff]);
  assert.throws(() => parseImageConfig('img', Buffer.from('{"rootfs":{}}')), /diff_ids/);
});

test('command/args merge exactly like the kubelet (four cases)', () => {
  assert.deepEqual(containerProcess(image, {}).args, ['/entry', '--default']);
  assert.deepEqual(containerProcess(image, { command: ['/bin/sh'] }).args, ['/bin/sh']);
  assert.deepEqual(containerProcess(image, { args: ['x'] }).args, ['/entry', 'x']);
  assert.deepEqual(containerProcess(image, { command: ['/bin/sh'], args: ['-c', 'ls'] }).args, ['/bin/sh', '-c', 'ls']);
});

test('env overrides by name, $(VAR) expands, cwd and user default from the image', () => {
  const p = containerProcess(image, { env: [{ name: 'A', value: 'pod' }, { name: 'B', value: '$(A)-b' }], args: ['$(A)', '$$(A)', '$(NOPE)'] });
  assert.deepEqual(p.env, ['PATH=/bin', 'A=pod', 'B=$(A)-b']);
  assert.deepEqual(p.args, ['/entry', 'pod', '$(A)', '$(NOPE)']);
  assert.equal(p.cwd, '/app');
  assert.equal(p.user, '1000:1000');
  assert.equal(containerProcess(image, { workingDir: '/w' }).cwd, '/w');
  assert.equal(expandVars('a$b$', new Map()), 'a$b$');
});
