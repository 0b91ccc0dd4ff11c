// Process settings, bind mounts, sysctl and seccomp: burstlet-runtime must print exactly
// what runc prints for the same bundle, and the seccomp profile must refuse what it denies.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { join } from 'node:path';
import { NativeRuntime } from '../../workers/executor/native-runtime.ts';
import { ensureNativeBuilt, makeScratch, skipUnlessRoot, uniqueId, type Scratch, type SpecOptions } from './support/bundle.ts';

const skip = skipUnlessRoot();

describe('process settings and mounts, burstlet vs runc (root)', { skip }, () => {
  let scratch: Scratch;
  let burstlet: NativeRuntime;
  let runc: NativeRuntime;

  before(() => {
    ensureNativeBuilt();
    scratch = makeScratch();
    burstlet = new NativeRuntime({ root: join(scratch.dir, 'b') });
    runc = new NativeRuntime({ runtime: 'runc', root: join(scratch.dir, 'r') });
  });
  after(() => scratch?.cleanup());

  /** Runs one bundle under both runtimes (`reset` runs before each); returns [burstlet, runc]. */
  async function both(name: string, spec: SpecOptions, reset: () => void = () => {}) {
    const bundle = scratch.bundle(name, spec);
    reset();
    const b = await burstlet.run(uniqueId(name), bundle);
    reset();
    return [b, await runc.run(uniqueId(name), bundle)];
  }

  test('user, groups, cwd, env, rlimits, oomScoreAdj, capabilities, noNewPrivileges, sysctl', async () => {
    const script = [
      'id', 'pwd', 'echo "$FOO"', 'ulimit -n', 'ulimit -Hn', 'cat /proc/self/oom_score_adj',
      'grep -E "^(Cap|NoNewPrivs)" /proc/self/status', 'cat /proc/sys/kernel/shmmni',
    ].join('; ');
    const [b, r] = await both('proc', {
      args: ['sh', '-c', script], cwd: '/tmp', env: ['PATH=/bin', 'FOO=bar baz'],
      user: { uid: 1000, gid: 1000, additionalGids: [5, 6] },
      rlimits: [{ type: 'RLIMIT_NOFILE', soft: 512, hard: 700 }],
      capabilities: ['CAP_CHOWN', 'CAP_KILL', 'CAP_SETUID'], noNewPrivileges: false,
      sysctl: { 'kernel.shmmni': '1234' },
    });
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(b.exitCode, 0, b.stderr);
    assert.equal(b.stdout, r.stdout);
    const lines = b.stdout.split('\n');
    assert.deepEqual(lines.slice(0, 5), ['uid=1000 gid=1000 groups=5,6', '/tmp', 'bar baz', '512', '700']);
    assert.ok(lines.includes('NoNewPrivs:\t0'));
    assert.ok(lines.includes('1234'), 'sysctl applied');
  });

  test('oomScoreAdj is applied', async () => {
    const bundle = scratch.bundle('oomadj', { args: ['cat', '/proc/self/oom_score_adj'] });
    const cfg = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
    cfg.process.oomScoreAdj = 321;
    scratch.writeConfig(bundle, cfg);
    const b = await burstlet.run(uniqueId('oomadj'), bundle);
    const r = await runc.run(uniqueId('oomadj'), bundle);
    assert.deepEqual([b.stdout.trim(), r.stdout.trim()], ['321', '321']);
  });

  test('bind mounts: read-only dir, read-write file, and nosuid/nodev flags', async () => {
    const host = join(scratch.dir, 'host-dir');
    mkdirSync(host);
    writeFileSync(join(host, 'data'), 'from-host');
    const file = join(scratch.dir, 'host-file');
    const script = [
      'cat /data/data; echo', 'if touch /data/new 2>/dev/null; then echo dir=rw; else echo dir=ro; fi',
      'cat /etc/bound; echo', 'echo file-v2 > /etc/bound && echo file=rw',
      'grep -E " /(data|etc/bound) " /proc/self/mounts | cut -d" " -f2,4 | sed "s/,relatime//"',
    ].join('; ');
    const [b, r] = await both('binds', {
      args: ['sh', '-c', script],
      extraMounts: [
        { destination: '/data', type: 'bind', source: host, options: ['rbind', 'ro', 'nosuid', 'nodev'] },
        { destination: '/etc/bound', type: 'none', source: file, options: ['bind', 'rw'] },
      ],
    }, () => writeFileSync(file, 'file-v1'));
    assert.equal(b.exitCode, 0, b.stderr);
    assert.equal(b.stdout, r.stdout);
    assert.match(b.stdout, /^from-host\ndir=ro\nfile-v1\nfile=rw\n/);
    assert.equal(readFileSync(file, 'utf8'), 'file-v2\n', 'the write reached the host file');
    assert.match(b.stdout, /\/data ro,nosuid,nodev/);
  });
});

describe('device cgroup (root)', { skip: skip || (!existsSync('/sys/fs/cgroup/devices') && 'no v1 devices controller') }, () => {
  let scratch: Scratch;
  before(() => {
    ensureNativeBuilt();
    scratch = makeScratch();
  });
  after(() => scratch?.cleanup());

  test('a block device node made inside cannot be opened; /dev/null can (same as runc)', async () => {
    const [major, minor] = readdirSync('/sys/dev/block')[0].split(':');
    const script = `mknod /tmp/disk b ${major} ${minor} 2>/dev/null; ` +
      'if head -c 1 /tmp/disk >/dev/null 2>&1; then echo disk=readable; else echo disk=denied; fi; ' +
      'echo x > /dev/null && echo null=ok';
    const bundle = scratch.bundle('dev', {
      args: ['sh', '-c', script], capabilities: ['CAP_MKNOD', 'CAP_DAC_OVERRIDE'],
      extraMounts: [{ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid'] }],
    });
    const b = await new NativeRuntime({ root: join(scratch.dir, 'b') }).run(uniqueId('dev'), bundle);
    const r = await new NativeRuntime({ runtime: 'runc', root: join(scratch.dir, 'r') }).run(uniqueId('dev'), bundle);
    assert.equal(b.stdout, 'disk=denied\nnull=ok\n', b.stderr);
    assert.equal(b.stdout, r.stdout);
  });
});

describe('seccomp default profile (root)', { skip }, () => {
  let scratch: Scratch;
  let rt: NativeRuntime;
  before(() => {
    ensureNativeBuilt();
    scratch = makeScratch();
    rt = new NativeRuntime({ root: join(scratch.dir, 'state') });
  });
  after(() => scratch?.cleanup());

  // With CAP_SYS_ADMIN, mount would succeed; only the filter can refuse it.
  const script = 'grep ^Seccomp: /proc/self/status; if mount -t tmpfs x /mnt 2>/dev/null; then echo mount=ok; else echo mount=denied; fi';
  for (const [seccomp, nnp] of [[true, true], [true, false], [false, true]] as const) {
    test(`${seccomp ? 'with' : 'without'} the profile (noNewPrivileges ${nnp})`, async () => {
      const id = uniqueId('sec');
      const bundle = scratch.bundle(id, {
        args: ['sh', '-c', script], capabilities: ['CAP_SYS_ADMIN'], noNewPrivileges: nnp,
        annotations: seccomp ? { 'run.burstlet.seccomp': 'default' } : undefined,
      });
      const r = await rt.run(id, bundle);
      assert.equal(r.exitCode, 0, r.stderr);
      assert.equal(r.stdout, seccomp ? 'Seccomp:\t2\nmount=denied\n' : 'Seccomp:\t0\nmount=ok\n');
    });
  }

  test('a linux.seccomp profile in the spec gets the default profile, never no filter', async () => {
    const id = uniqueId('sec');
    const bundle = scratch.bundle(id, { args: ['sh', '-c', script], capabilities: ['CAP_SYS_ADMIN'] });
    const cfg = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
    cfg.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [] };
    scratch.writeConfig(bundle, cfg);
    const r = await rt.run(id, bundle);
    assert.equal(r.stdout, 'Seccomp:\t2\nmount=denied\n', r.stderr);
  });
});
