// The Executor adapter over burstlet-runtime (workers/executor/burstlet.ts). The shared
// Executor suite (test/workers/runtime/executor.test.ts) covers the contract once the
// burstlet candidate is listed there; this file covers what is specific to the adapter.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { join } from 'node:path';
import { burstletExecutor } from '../../workers/executor/burstlet.ts';
import type { Executor } from '../../workers/executor/executor.ts';
import { criLog, ensureNativeBuilt, makeScratch, skipUnlessRoot, uniqueId, type Scratch } from './support/bundle.ts';

describe('burstlet Executor adapter (root)', { skip: skipUnlessRoot() }, () => {
  let scratch: Scratch;
  let ex: Executor;
  before(() => {
    ensureNativeBuilt();
    scratch = makeScratch();
    ex = burstletExecutor(join(scratch.dir, 'root'));
  });
  after(() => scratch?.cleanup());

  test('create registers, start runs: CRI log, exit code, times; delete forgets', async () => {
    const id = uniqueId('ex');
    const logPath = join(scratch.dir, `${id}.log`);
    await ex.create(id, scratch.bundle(id, { args: ['sh', '-c', 'echo hi; exit 6'] }), { logPath });
    assert.equal((await ex.state(id))?.status, 'created');
    assert.deepEqual(await ex.list(), [id]);
    await ex.start(id);
    const st = await ex.wait(id);
    assert.deepEqual([st.status, st.exitCode, st.startError], ['stopped', 6, undefined]);
    assert.ok(st.startedAt! <= st.finishedAt!);
    assert.deepEqual(criLog(logPath).lines('stdout'), ['hi']);
    await ex.delete(id);
    assert.equal(await ex.state(id), undefined);
  });

  test('a missing executable ends stopped with startError, exit 128', async () => {
    const id = uniqueId('ex');
    await ex.create(id, scratch.bundle(id, { args: ['no-such-command'] }), { logPath: join(scratch.dir, `${id}.log`) });
    await ex.start(id);
    const st = await ex.wait(id);
    assert.equal(st.exitCode, 128);
    assert.match(st.startError ?? '', /executable file not found/);
    await ex.delete(id);
  });

  test('exec streams output and its kill reaches the exec\'d process', async () => {
    const id = uniqueId('ex');
    await ex.create(id, scratch.bundle(id, { args: ['sleep', '600'] }), { logPath: join(scratch.dir, `${id}.log`) });
    await ex.start(id);
    const p = await ex.exec(id, ['sh', '-c', 'trap "echo got-term; exit 12" TERM; echo ready; while :; do sleep 0.05; done']);
    p.stdin.end();
    let out = '';
    await new Promise<void>((resolve) => p.stdout.on('data', (d: Buffer) => ((out += d), out.includes('ready') && resolve())));
    p.kill('SIGTERM');
    assert.equal(await p.exited, 12);
    assert.match(out, /got-term/);
    await ex.delete(id);
  });

  test('a SIGTERM sent the moment an exec starts still reaches its process: nothing is left running', async () => {
    const id = uniqueId('ex');
    await ex.create(id, scratch.bundle(id, { args: ['sleep', '600'] }), { logPath: join(scratch.dir, `${id}.log`) });
    await ex.start(id);
    for (let i = 0; i < 20; i++) {
      const p = await ex.exec(id, ['sleep', '601']);
      p.kill('SIGTERM');
      assert.equal(await p.exited, 143);
    }
    const ps = await ex.exec(id, ['sh', '-c', 'ps -o args | grep -c "^sleep 601" || true']);
    let out = '';
    ps.stdout.on('data', (d: Buffer) => (out += d));
    await ps.exited;
    assert.equal(out.trim(), '0', 'no exec\'d process outlived its runtime');
    await ex.delete(id);
  });
});
