// The koffi binding of libburstlet.so: pidfd signalling and snapshot mounts.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { join } from 'node:path';
import { loadNativeLib, type NativeLib } from '../../workers/executor/native-lib.ts';
import { BurstletError } from '../../src/errors.ts';
import { ensureNativeBuilt, makeScratch, skipUnlessRoot, type Scratch } from './support/bundle.ts';

describe('libburstlet through koffi', () => {
  let lib: NativeLib;
  let scratch: Scratch;
  before(() => {
    ensureNativeBuilt();
    lib = loadNativeLib();
    scratch = makeScratch('burstlet-lib-');
  });
  after(() => scratch?.cleanup());

  test('pidfd signals the process, and reports false once it is gone', async () => {
    const child = spawn('sleep', ['600']);
    const exited = new Promise<NodeJS.Signals | null>((r) => child.once('exit', (_c, sig) => r(sig)));
    const fd = lib.pidfdOpen(child.pid!);
    try {
      assert.equal(lib.pidfdSignal(fd, 15), true);
      assert.equal(await exited, 'SIGTERM');
      assert.equal(lib.pidfdSignal(fd, 15), false);
    } finally {
      lib.closePidfd(fd);
    }
  });

  test('errors carry the call and errno text', () => {
    assert.throws(() => lib.pidfdOpen(2 ** 30), (e: unknown) =>
      e instanceof BurstletError && e.code === 'RUNTIME_FAILED' && /pidfd_open \d+: No such process/.test(e.message));
    assert.throws(() => lib.unmount(join(scratch.dir, 'not-mounted')), /unmount `.*not-mounted`: /);
  });

  test('overlay and read-only bind mounts (root)', { skip: skipUnlessRoot() }, () => {
    const d = (n: string) => { const p = join(scratch.dir, n); mkdirSync(p, { recursive: true }); return p; };
    const [lower, upper, work, merged, ro] = ['lower', 'upper', 'work', 'merged', 'ro'].map(d);
    writeFileSync(join(lower, 'from-lower'), 'L');
    lib.mountOverlay({ lower: [lower], upper, work, target: merged });
    try {
      assert.equal(readFileSync(join(merged, 'from-lower'), 'utf8'), 'L');
      writeFileSync(join(merged, 'written'), 'W');
      assert.equal(readFileSync(join(upper, 'written'), 'utf8'), 'W', 'writes land in upper');
      lib.mountBind(merged, ro, { readonly: true });
      try {
        assert.throws(() => writeFileSync(join(ro, 'nope'), 'x'), /EROFS/);
      } finally {
        lib.unmount(ro);
      }
    } finally {
      lib.unmount(merged);
    }
    assert.equal(existsSync(join(merged, 'from-lower')), false, 'unmounted');
  });
});
