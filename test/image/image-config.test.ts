import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseImageConfig, type ImageConfig } from '../../workers/image/image-config.ts';

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
