import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hostsFile, parseResolvConf, resolvConf } from '../../../workers/runtime/etc-files.ts';

const pod = { name: 'web-0', namespace: 'shop' };

test('hostsFile: kubelet layout, pod IP line, subdomain FQDN and hostAliases', () => {
  const plain = hostsFile(pod, '10.0.0.5', 'web-0');
  assert.match(plain, /^# Kubernetes-managed hosts file.\n127\.0\.0\.1\tlocalhost\n/);
  assert.match(plain, /\n10\.0\.0\.5\tweb-0\n$/);
  const full = hostsFile({ ...pod, subdomain: 'db', hostAliases: [{ ip: '1.2.3.4', hostnames: ['a', 'b'] }] }, '10.0.0.5', 'web-0');
  assert.match(full, /\n10\.0\.0\.5\tweb-0\.db\.shop\.svc\.cluster\.local\tweb-0\n/);
  assert.match(full, /\n# Entries added by HostAliases.\n1\.2\.3\.4\ta\tb\n$/);
  assert.doesNotMatch(hostsFile(pod, undefined, 'web-0'), /web-0/);
});

const host = '# generated\nnameserver 192.168.1.1\nsearch lan corp\noptions ndots:1 edns0\n';

test('parseResolvConf reads nameservers, search and options', () => {
  const r = parseResolvConf(host);
  assert.deepEqual(r.nameservers, ['192.168.1.1']);
  assert.deepEqual(r.searches, ['lan', 'corp']);
  assert.deepEqual([...r.options], [['ndots', '1'], ['edns0', undefined]]);
});

test('resolvConf: host file merged with dnsConfig; dnsPolicy None uses only dnsConfig', () => {
  const cfg = { nameservers: ['1.1.1.1', '192.168.1.1'], searches: ['x.local'], options: [{ name: 'ndots', value: '5' }] };
  assert.equal(resolvConf({ dnsConfig: cfg }, host), 'nameserver 192.168.1.1\nnameserver 1.1.1.1\nsearch lan corp x.local\noptions ndots:5 edns0\n');
  assert.equal(resolvConf({ dnsPolicy: 'None', dnsConfig: cfg }, host), 'nameserver 1.1.1.1\nnameserver 192.168.1.1\nsearch x.local\noptions ndots:5\n');
  assert.equal(resolvConf({}, host), 'nameserver 192.168.1.1\nsearch lan corp\noptions ndots:1 edns0\n');
});
