// exec --tty: a pseudo-terminal of the container's own /dev/pts as the process's controlling
// terminal, its size set at start and by "COLS ROWS" lines on the resize fd; the exit code
// is the process's.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { join } from 'node:path';
import { NativeRuntime } from '../../workers/executor/native-runtime.ts';
import { burstletExecutor } from '../../workers/executor/burstlet.ts';
import { ensureNativeBuilt, makeScratch, skipUnlessRoot, uniqueId, type Scratch } from './support/bundle.ts';

describe('exec with a TTY (root)', { skip: skipUnlessRoot() }, () => {
  let scratch: Scratch;
  before(() => {
    ensureNativeBuilt();
    scratch = makeScratch();
  });
  after(() => scratch?.cleanup());

  test('ttyname inside the container, resize, stdin echo, exit code; a missing command fails clearly', async () => {
    const root = join(scratch.dir, 'exec-root');
    const ex = burstletExecutor(root);
    const id = uniqueId('tty');
    await ex.create(id, scratch.bundle(id, { args: ['sleep', '600'] }), { logPath: join(scratch.dir, `${id}.log`) });
    await ex.start(id);
    try {
      // A resize sends SIGWINCH to the terminal's foreground group: the trap prints the size
      // (and interrupts `read`, hence the loop).
      const p = await ex.exec(id, ['sh', '-c', 'trap "stty size" WINCH; tty; echo ready; until read x; do :; done; echo "got $x"; exit 3'], { tty: true });
      assert.ok(p.resize, 'a TTY session can be resized');
      let out = '';
      p.stdout.on('data', (d: Buffer) => (out += d));
      const until = async (text: string) => {
        for (let i = 0; i < 2000 && !out.includes(text); i++) await new Promise((r) => setTimeout(r, 10));
        assert.ok(out.includes(text), `${JSON.stringify(text)} in ${JSON.stringify(out)}`);
      };
      await until('ready\r\n');
      p.resize!(132, 43);
      await until('43 132\r\n');
      p.stdin.write('hello\n');
      await until('got hello');
      assert.equal(await p.exited, 3);
      const lines = out.split('\r\n');
      assert.match(lines[0], /^\/dev\/pts\/\d+$/, 'a terminal of the container');
      assert.ok(lines.includes('hello'), 'input echoed by the terminal');
      const bad = await ex.exec(id, ['/nonexistent'], { tty: true });
      let err = '';
      bad.stderr.on('data', (d: Buffer) => (err += d));
      assert.equal(await bad.exited, 1);
      assert.match(err, /exec `\/nonexistent`: No such file/);
    } finally {
      await ex.kill(id, 'SIGKILL');
      await ex.wait(id);
      await ex.delete(id);
    }
  });

  test('runc has no TTY exec here: refused clearly', () => {
    const rt = new NativeRuntime({ runtime: 'runc', root: join(scratch.dir, 'runc') });
    assert.throws(() => rt.spawnExec('x', ['sh'], { tty: true }), /needs the burstlet runtime/);
  });
});
