import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { BurstletError } from '../../../src/errors.ts';
import { cniFailure, invokePlugin, pluginVersions } from '../../../workers/network/cni-plugin.ts';

const CNI = ['/usr/lib/cni', '/opt/cni/bin'];
const NO_PLUGINS = !existsSync('/usr/lib/cni/host-local') && 'containernetworking-plugins not installed (/usr/lib/cni)';

test('cniFailure puts the plugin\'s CNI code, msg and details in the message', () => {
  const e = cniFailure('bridge', 'ADD', '{"code":11,"msg":"failed to allocate","details":"no IP addresses available"}', '', 'exit code 1');
  assert.equal(e.code, 'RUNTIME_FAILED');
  assert.equal(e.message, 'CNI plugin bridge ADD failed: CNI error code 11: failed to allocate (no IP addresses available)');
  assert.deepEqual(e.details, { plugin: 'bridge', command: 'ADD', cniCode: 11, cniMsg: 'failed to allocate', cniDetails: 'no IP addresses available' });
  const raw = cniFailure('portmap', 'DEL', 'panic', 'oops', 'signal SIGSEGV');
  assert.equal(raw.message, 'CNI plugin portmap DEL failed: signal SIGSEGV: oops: panic');
});

test('pluginVersions asks a real plugin (VERSION)', { skip: NO_PLUGINS }, async () => {
  const versions = await pluginVersions('bridge', CNI);
  assert.ok(versions.includes('1.0.0') || versions.includes('0.4.0'), versions.join(','));
});

test('invokePlugin: a real plugin\'s CNI error becomes a BurstletError with its code and msg', { skip: NO_PLUGINS }, async () => {
  const conf = { cniVersion: '1.0.0', name: 'bad', type: 'bridge', ipam: { type: 'host-local', ranges: [[{ subnet: '10.0.0.0/99' }]] } };
  await assert.rejects(
    invokePlugin('host-local', conf, { command: 'ADD', containerId: 'x1', netns: '/nonexistent', ifName: 'eth0', cniPath: CNI }),
    (e: unknown) => e instanceof BurstletError && /^CNI plugin host-local ADD failed: CNI error code \d+: .*10\.0\.0\.0\/99/.test(e.message) && typeof e.details.cniCode === 'number',
  );
  await assert.rejects(invokePlugin('no-such-plugin', {}, { command: 'ADD', containerId: 'x', netns: '', ifName: 'eth0', cniPath: CNI }), (e: unknown) => e instanceof BurstletError && e.code === 'CONFIG_INVALID');
});
