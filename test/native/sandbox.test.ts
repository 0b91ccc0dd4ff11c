// Pod sandboxes: burstlet-pause holds the pod's namespaces; containers join them by path.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { join, resolve } from 'node:path';
import { NativeRuntime } from '../../workers/executor/native-runtime.ts';
import { criLog, ensureNativeBuilt, makeScratch, skipUnlessRoot, uniqueId, type Scratch } from './support/bundle.ts';

const skip = skipUnlessRoot();
const pauseBinary = resolve(import.meta.dirname, '../../native/build/burstlet-pause');

describe('pod sandbox with burstlet-pause (root)', { skip }, () => {
  let scratch: Scratch;
  let rt: NativeRuntime;
  let sandboxId: string;
  let pausePid: number;

  before(async () => {
    ensureNativeBuilt();
    scratch = makeScratch();
    rt = new NativeRuntime({ root: join(scratch.dir, 'state') });
    sandboxId = uniqueId('pause');
    const bundle = scratch.bundle(sandboxId, { args: ['/pause'], hostname: 'pod-sandbox' }, { pause: pauseBinary });
    await rt.create(sandboxId, bundle, { logPath: join(scratch.dir, 'pause.log') });
    await rt.start(sandboxId);
    pausePid = (await rt.state(sandboxId)).pid;
    // What the CNI loopback plugin does for a kubelet: bring lo up in the pod's netns.
    execFileSync('nsenter', [`--net=/proc/${pausePid}/ns/net`, 'ip', 'link', 'set', 'lo', 'up']);
  });
  after(async () => {
    await rt?.delete(sandboxId, { force: true }).catch(() => {});
    scratch?.cleanup();
  });

  /** A container joining the sandbox's network, IPC and UTS namespaces. */
  function member(name: string, script: string): string {
    const ns = (type: string, file: string) => ({ type, path: `/proc/${pausePid}/ns/${file}` });
    return scratch.bundle(name, {
      args: ['sh', '-c', script], hostname: '',
      namespaces: [{ type: 'pid' }, { type: 'mount' }, ns('network', 'net'), ns('ipc', 'ipc'), ns('uts', 'uts')],
    });
  }

  test('two members see the sandbox hostname and talk over loopback', async () => {
    const server = uniqueId('srv');
    const client = uniqueId('cli');
    const serverLog = join(scratch.dir, 'server.log');
    await rt.create(server, member(server, 'hostname; nc -l -p 8080'), { logPath: serverLog });
    await rt.start(server);
    const retry = 'for i in $(seq 1 200); do echo hello-from-client | nc 127.0.0.1 8080 && exit 0; sleep 0.05; done; exit 1';
    const clientLog = join(scratch.dir, 'client.log');
    await rt.create(client, member(client, `hostname; ${retry}`), { logPath: clientLog });
    await rt.start(client);
    const c = await rt.waitForExit(client);
    const s = await rt.waitForExit(server);
    await rt.delete(client);
    await rt.delete(server);
    assert.equal(c.exit?.exitCode, 0);
    assert.equal(s.exit?.exitCode, 0);
    assert.deepEqual(criLog(serverLog).lines('stdout'), ['pod-sandbox', 'hello-from-client']);
    assert.deepEqual(criLog(clientLog).lines('stdout'), ['pod-sandbox']);
  });

  test('the sandbox keeps running while members come and go, and stops on SIGTERM', async () => {
    assert.equal((await rt.state(sandboxId)).status, 'running');
    const id = uniqueId('m');
    await rt.create(id, member(id, 'true'), { logPath: join(scratch.dir, `${id}.log`) });
    await rt.start(id);
    await rt.waitForExit(id);
    await rt.delete(id);
    assert.equal((await rt.state(sandboxId)).status, 'running');
    await rt.kill(sandboxId, 'SIGTERM');
    const st = await rt.waitForExit(sandboxId);
    assert.deepEqual([st.exit?.exitCode, st.exit?.signal], [0, 0]);
  });
});
