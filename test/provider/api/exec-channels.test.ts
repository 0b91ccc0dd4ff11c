import assert from 'node:assert/strict';
import { test } from 'node:test';
import { channelCodec, exitStatus, failureStatus, parseResize, statusPayload } from '../../../provider/api/exec-channels.ts';

test('binary protocols prefix a channel byte; base64 ones an ASCII digit and base64 data', () => {
  const bin = channelCodec('v4.channel.k8s.io');
  assert.deepEqual(bin.encode(1, Buffer.from('hi')), Buffer.from([1, 104, 105]));
  assert.deepEqual(bin.decode(Buffer.from([0, 120]), true), { channel: 0, data: Buffer.from('x') });
  assert.equal(bin.decode(Buffer.alloc(0), true), undefined);
  const b64 = channelCodec('v4.base64.channel.k8s.io');
  assert.equal(b64.encode(2, Buffer.from('hi')), '2aGk=');
  assert.deepEqual(b64.decode(Buffer.from('0aGk='), false), { channel: 0, data: Buffer.from('hi') });
  assert.equal(b64.decode(Buffer.from('zzz'), false), undefined);
});

test('protocol versions: v4+ write JSON Status, only v5 has the close signal, v1 writes bare messages', () => {
  assert.deepEqual([channelCodec('v5.channel.k8s.io').closeSignal, channelCodec('v4.channel.k8s.io').closeSignal], [true, false]);
  const v1 = channelCodec('channel.k8s.io');
  assert.equal(statusPayload(v1, exitStatus(0)), undefined);
  assert.equal(statusPayload(v1, failureStatus('boom'))?.toString(), 'boom');
  const v4 = channelCodec('v4.channel.k8s.io');
  assert.deepEqual(JSON.parse(statusPayload(v4, exitStatus(0))!.toString()), { metadata: {}, status: 'Success' });
  const failed = JSON.parse(statusPayload(v4, exitStatus(137))!.toString());
  assert.equal(failed.reason, 'NonZeroExitCode');
  assert.deepEqual(failed.details.causes, [{ reason: 'ExitCode', message: '137' }]);
});

test('resize payloads are remotecommand.TerminalSize JSON; anything else is ignored', () => {
  assert.deepEqual(parseResize(Buffer.from('{"Width":80,"Height":24}')), { width: 80, height: 24 });
  assert.equal(parseResize(Buffer.from('{"width":80,"height":24}')), undefined);
  assert.equal(parseResize(Buffer.from('nope')), undefined);
  assert.equal(parseResize(Buffer.from('{"Width":-1,"Height":24}')), undefined);
});
