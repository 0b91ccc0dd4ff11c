import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BurstletError } from '../../../../src/errors.ts';
import { defaultSpec } from '../../../../workers/runtime/spec/oci.ts';
import {
  effectiveSecurityContext, withCapabilities, withNoNewPrivileges, withPrivileged, withReadonlyRootfs, withUser,
  type SecurityContext,
} from '../../../../workers/runtime/spec/security.ts';

const reasonIs = (reason: string, text: RegExp) => (err: unknown) =>
  err instanceof BurstletError && err.reason === reason && text.test(err.message);

function user(sc: SecurityContext, imageUser: string, rootfs?: string) {
  const spec = defaultSpec();
  withUser(sc, { imageUser, rootfs, podLabel: 'p_ns(u1)', container: 'c' })(spec);
  return spec.process.user;
}

test('effectiveSecurityContext: container fields win over the pod', () => {
  const sc = effectiveSecurityContext({ runAsUser: 1, runAsGroup: 2, runAsNonRoot: true, fsGroup: 9 }, { runAsUser: 5 });
  assert.equal(sc.runAsUser, 5);
  assert.equal(sc.runAsGroup, 2);
  assert.equal(sc.runAsNonRoot, true);
  assert.equal(sc.fsGroup, 9);
});

test('withUser: runAsUser/runAsGroup, numeric image user, fsGroup and supplementalGroups', () => {
  assert.deepEqual(user({}, ''), { uid: 0, gid: 0 });
  assert.deepEqual(user({}, '1000:1001'), { uid: 1000, gid: 1001 });
  assert.deepEqual(user({ runAsUser: 7, runAsGroup: 8 }, '1000:1001'), { uid: 7, gid: 8 });
  assert.deepEqual(user({ runAsUser: 7, supplementalGroups: [30, 20], fsGroup: 40 }, ''), { uid: 7, gid: 0, additionalGids: [20, 30, 40] });
});

test('withUser: names resolve through the rootfs passwd and group files', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'burstlet-spec-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'etc'));
  writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0::/root:/bin/sh\napp:x:1200:1300::/home/app:/bin/sh\n');
  writeFileSync(join(root, 'etc/group'), 'root:x:0:\napp:x:1300:\nextra:x:1400:app\n');
  assert.deepEqual(user({}, 'app', root), { uid: 1200, gid: 1300, additionalGids: [1400] });
  assert.deepEqual(user({}, 'app:extra', root), { uid: 1200, gid: 1400 });
  assert.throws(() => user({}, 'ghost', root), reasonIs('CreateContainerError', /unable to find user ghost/));
});

test('withUser: runAsNonRoot refuses root and unverifiable users with the kubelet messages', () => {
  assert.throws(() => user({ runAsNonRoot: true }, ''), reasonIs('CreateContainerConfigError', /image will run as root \(pod: "p_ns\(u1\)", container: c\)/));
  assert.throws(() => user({ runAsNonRoot: true }, '0'), reasonIs('CreateContainerConfigError', /image will run as root/));
  assert.throws(() => user({ runAsNonRoot: true, runAsUser: 0 }, '1000'), reasonIs('CreateContainerConfigError', /runAsUser breaks non-root policy/));
  assert.throws(() => user({ runAsNonRoot: true }, 'app'), reasonIs('CreateContainerConfigError', /non-numeric user \(app\)/));
  assert.deepEqual(user({ runAsNonRoot: true }, '1000'), { uid: 1000, gid: 0 });
  assert.deepEqual(user({ runAsNonRoot: true, runAsUser: 5 }, ''), { uid: 5, gid: 0 });
});

function caps(sc: SecurityContext): string[] {
  const spec = defaultSpec();
  withCapabilities(sc, 'c')(spec);
  assert.deepEqual(spec.process.capabilities.effective, spec.process.capabilities.bounding);
  return spec.process.capabilities.bounding;
}

test('withCapabilities: add/drop over the default set, ALL, unknown names refused', () => {
  const base = caps({});
  assert.equal(base.length, 14);
  assert.ok(base.includes('CAP_NET_RAW') && !base.includes('CAP_SYS_ADMIN'));
  const tweaked = caps({ capabilities: { add: ['SYS_TIME', 'CAP_NET_ADMIN'], drop: ['NET_RAW'] } });
  assert.ok(tweaked.includes('CAP_SYS_TIME') && tweaked.includes('CAP_NET_ADMIN') && !tweaked.includes('CAP_NET_RAW'));
  assert.deepEqual(caps({ capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } }), ['CAP_NET_BIND_SERVICE']);
  assert.ok(caps({ capabilities: { add: ['ALL'] } }).includes('CAP_SYS_ADMIN'));
  assert.throws(() => caps({ capabilities: { add: ['FLY'] } }), reasonIs('CreateContainerError', /unknown capability "FLY"/));
});

test('withNoNewPrivileges and withReadonlyRootfs follow the securityContext', () => {
  const spec = defaultSpec();
  withNoNewPrivileges({})(spec);
  assert.equal(spec.process.noNewPrivileges, false);
  withNoNewPrivileges({ allowPrivilegeEscalation: false })(spec);
  assert.equal(spec.process.noNewPrivileges, true);
  withReadonlyRootfs({ readOnlyRootFilesystem: true })(spec);
  assert.equal(spec.root.readonly, true);
});

test('withPrivileged: refused unless allowed (Forbidden); when allowed, everything opens', () => {
  assert.throws(() => withPrivileged({ privileged: true }, false, 'c')(defaultSpec()), reasonIs('Forbidden', /privileged containers are not allowed/));
  const spec = defaultSpec();
  withPrivileged({ privileged: true }, true, 'c')(spec);
  withCapabilities({ privileged: true }, 'c')(spec); // must not narrow the grant
  assert.ok(spec.process.capabilities.bounding.includes('CAP_SYS_ADMIN'));
  assert.deepEqual(spec.linux.maskedPaths, []);
  assert.ok(!spec.mounts.find((m) => m.type === 'sysfs')!.options!.includes('ro'));
  const plain = defaultSpec();
  withPrivileged({}, false, 'c')(plain);
  assert.ok(plain.linux.maskedPaths.includes('/proc/kcore'));
});
