import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultSpec } from '../../../../workers/runtime/spec/oci.ts';
import { bindMount, podHostname, withHostname, withMounts, withNamespaces } from '../../../../workers/runtime/spec/linux.ts';

test('withNamespaces: joins the sandbox by path; host modes drop the namespace', () => {
  const spec = defaultSpec();
  withNamespaces({ network: '/proc/9/ns/net', ipc: '/proc/9/ns/ipc', uts: '/proc/9/ns/uts' })(spec);
  assert.deepEqual(spec.linux.namespaces, [
    { type: 'mount' }, { type: 'pid' },
    { type: 'network', path: '/proc/9/ns/net' }, { type: 'ipc', path: '/proc/9/ns/ipc' }, { type: 'uts', path: '/proc/9/ns/uts' },
  ]);
  withNamespaces({ network: 'host', ipc: 'host', uts: 'host', pid: 'host' })(spec);
  assert.deepEqual(spec.linux.namespaces, [{ type: 'mount' }]);
  withNamespaces({ network: 'new', ipc: 'host', uts: 'new' })(spec);
  assert.deepEqual(spec.linux.namespaces, [{ type: 'mount' }, { type: 'pid' }, { type: 'network' }, { type: 'uts' }]);
});

test('podHostname: spec.hostname wins, truncated to 63 characters without trailing dashes', () => {
  assert.equal(podHostname('web-0'), 'web-0');
  assert.equal(podHostname('web-0', 'db'), 'db');
  assert.equal(podHostname(`${'a'.repeat(62)}-b`), 'a'.repeat(62));
});

test('withHostname and withMounts: same destination replaced, options copied', () => {
  const spec = defaultSpec();
  withHostname('h')(spec);
  assert.equal(spec.hostname, 'h');
  withHostname(undefined)(spec);
  assert.equal(spec.hostname, undefined);
  const m = bindMount('/a', '/etc/hosts', true);
  withMounts([bindMount('/x', '/etc/hosts'), m])(spec);
  const hosts = spec.mounts.filter((x) => x.destination === '/etc/hosts');
  assert.deepEqual(hosts, [{ destination: '/etc/hosts', type: 'bind', source: '/a', options: ['rbind', 'rprivate', 'ro'] }]);
  assert.notEqual(hosts[0].options, m.options);
});
