import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BurstletError } from '../../src/errors.ts';
import { formatReference, isLoopbackHost, parseReference } from '../../src/oci-reference.ts';

const hex = 'a'.repeat(64);

test('short Docker Hub names normalise like Docker', () => {
  assert.deepEqual(parseReference('busybox'), { registry: 'docker.io', repository: 'library/busybox', tag: 'latest' });
  assert.deepEqual(parseReference('user/app:1.2'), { registry: 'docker.io', repository: 'user/app', tag: '1.2' });
  assert.equal(formatReference(parseReference('busybox')), 'docker.io/library/busybox:latest');
  assert.equal(formatReference(parseReference('index.docker.io/busybox')), 'docker.io/library/busybox:latest');
});

test('registry with port, nested namespaces, tags and digests', () => {
  assert.deepEqual(parseReference('127.0.0.1:5000/ns/sub/name:v1'), { registry: '127.0.0.1:5000', repository: 'ns/sub/name', tag: 'v1' });
  assert.deepEqual(parseReference(`localhost/app@sha256:${hex}`), { registry: 'localhost', repository: 'app', digest: `sha256:${hex}` });
  assert.deepEqual(parseReference(`quay.io/a/b:t@sha256:${hex}`), { registry: 'quay.io', repository: 'a/b', tag: 't', digest: `sha256:${hex}` });
  assert.equal(formatReference(parseReference(`quay.io/a/b:t@sha256:${hex}`)), `quay.io/a/b:t@sha256:${hex}`);
});

test('malformed references are InvalidImageName', () => {
  for (const bad of ['', 'UPPER', 'a b', 'name:', 'name@sha256:abc', 'host:5000/', 'x//y', 'name:-bad', '../etc', `n:${'t'.repeat(200)}`]) {
    assert.throws(() => parseReference(bad), (err: unknown) => {
      assert.ok(err instanceof BurstletError, bad);
      assert.equal(err.code, 'IMAGE_REFERENCE_INVALID');
      assert.equal(err.reason, 'InvalidImageName');
      return true;
    }, bad);
  }
});

test('loopback detection for the insecure-by-default rule', () => {
  assert.ok(isLoopbackHost('127.0.0.1:5000'));
  assert.ok(isLoopbackHost('localhost'));
  assert.ok(isLoopbackHost('[::1]:80'));
  assert.ok(!isLoopbackHost('registry.example.com:5000'));
  assert.ok(!isLoopbackHost('docker.io'));
});
