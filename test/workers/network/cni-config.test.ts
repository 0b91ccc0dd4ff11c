import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bridgeConfList, loopbackConf, negotiateVersion, pluginConfig, portMappingsFor } from '../../../workers/network/cni-config.ts';
import { podNetworkResult } from '../../../workers/network/cni-result.ts';
import { BurstletError } from '../../../src/errors.ts';

const list = bridgeConfList({ cniVersion: '1.0.0', name: 'burstlet-b0', bridge: 'b0', subnet: '10.9.0.0/24', ipamDataDir: '/s/ipam', mtu: 1400, portmap: true, firewall: true });

test('bridgeConfList: bridge (gateway, masquerade, hairpin, host-local under the state dir) → portmap → firewall', () => {
  assert.deepEqual(list.plugins.map((p) => p.type), ['bridge', 'portmap', 'firewall']);
  const br = list.plugins[0];
  assert.equal(br.bridge, 'b0');
  assert.equal(br.isGateway, true);
  assert.equal(br.ipMasq, true);
  assert.equal(br.hairpinMode, true);
  assert.equal(br.mtu, 1400);
  assert.deepEqual(br.ipam, { type: 'host-local', ranges: [[{ subnet: '10.9.0.0/24' }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: '/s/ipam' });
  assert.deepEqual(list.plugins[1].capabilities, { portMappings: true });
  assert.deepEqual(loopbackConf('1.0.0').plugins, [{ type: 'loopback' }]);
  const bare = bridgeConfList({ cniVersion: '1.0.0', name: 'n', bridge: 'b0', subnet: '10.9.0.0/24', ipamDataDir: '/s', mtu: 1500, portmap: false, firewall: false });
  assert.deepEqual(bare.plugins.map((p) => p.type), ['bridge']);
});

test('pluginConfig: name/cniVersion from the list, prevResult when given, runtimeConfig only for declared capabilities', () => {
  const prev = { ips: [{ address: '10.9.0.2/24' }] };
  const runtime = { portMappings: [{ hostPort: 80, containerPort: 8080, protocol: 'tcp' }], bandwidth: { x: 1 } };
  const br = pluginConfig(list, list.plugins[0], undefined, runtime);
  assert.equal(br.name, 'burstlet-b0');
  assert.equal(br.cniVersion, '1.0.0');
  assert.equal('prevResult' in br, false);
  assert.equal('runtimeConfig' in br, false);
  const pm = pluginConfig(list, list.plugins[1], prev, runtime);
  assert.deepEqual(pm.prevResult, prev);
  assert.deepEqual(pm.runtimeConfig, { portMappings: runtime.portMappings });
  assert.equal('runtimeConfig' in pluginConfig(list, list.plugins[1], prev, {}), false);
});

test('portMappingsFor: drops ports without hostPort, keeps hostIP, refuses nonsense', () => {
  assert.deepEqual(portMappingsFor([
    { containerPort: 80, hostPort: 0, protocol: 'tcp' },
    { containerPort: 80, hostPort: 8080, protocol: 'tcp' },
    { containerPort: 53, hostPort: 5353, protocol: 'udp', hostIP: '127.0.0.1' },
  ]), [
    { hostPort: 8080, containerPort: 80, protocol: 'tcp' },
    { hostPort: 5353, containerPort: 53, protocol: 'udp', hostIP: '127.0.0.1' },
  ]);
  assert.throws(() => portMappingsFor([{ containerPort: 0, hostPort: 80, protocol: 'tcp' }]), (e: unknown) => e instanceof BurstletError && e.code === 'INVALID_INPUT');
  assert.throws(() => portMappingsFor([{ containerPort: 80, hostPort: 70000, protocol: 'tcp' }]), BurstletError);
  assert.throws(() => portMappingsFor([{ containerPort: 80, hostPort: 80, protocol: 'icmp' as 'tcp' }]), BurstletError);
});

test('negotiateVersion picks the best version every plugin supports', () => {
  assert.equal(negotiateVersion(['1.0.0', '0.4.0'], [['0.4.0', '1.0.0'], ['1.0.0']]), '1.0.0');
  assert.equal(negotiateVersion(['1.0.0', '0.4.0'], [['0.4.0', '1.0.0'], ['0.3.1', '0.4.0']]), '0.4.0');
  assert.equal(negotiateVersion(['1.0.0'], [['0.3.1']]), undefined);
});

test('podNetworkResult reads the IPv4 address, gateway, and host veth of a bridge result', () => {
  const result = {
    cniVersion: '1.0.0',
    interfaces: [{ name: 'b0', mac: 'x' }, { name: 'veth1234', mac: 'y' }, { name: 'eth0', mac: 'z', sandbox: '/proc/1/ns/net' }],
    ips: [{ interface: 2, address: 'fd00::5/64' }, { interface: 2, address: '10.9.0.5/24', gateway: '10.9.0.1' }],
  };
  assert.deepEqual(podNetworkResult(result, 'eth0', '10.9.0.0/24'), { ip: '10.9.0.5', gateway: '10.9.0.1', interface: 'eth0', cidr: '10.9.0.0/24', hostInterface: 'veth1234' });
  assert.throws(() => podNetworkResult({ ips: [] }, 'eth0', '10.9.0.0/24'), (e: unknown) => e instanceof BurstletError && e.code === 'RUNTIME_FAILED');
});
