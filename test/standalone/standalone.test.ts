import assert from 'node:assert/strict';
import { copyFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { alive, cgroupsMatching, descendants, mountsUnder } from './leftovers.ts';
import { runStandalone, until } from './run-standalone.ts';

const isRoot = process.getuid?.() === 0;

interface PodRow { name: string; uid: string; phase: string; status: string; ready: string }
const pods = async (ui: string): Promise<PodRow[]> => (await fetch(`${ui}/api/pods`)).json() as Promise<PodRow[]>;
const podRow = async (ui: string, name: string) => (await pods(ui)).find((p) => p.name === name);

test('npm start flow (root): examples run, manifests edited and removed, Ctrl-C leaves nothing behind', { skip: !isRoot && 'needs root (namespaces, cgroups)' }, async () => {
  const s = await runStandalone();
  const seenPids = new Set<number>();
  const uids = new Set<string>();
  try {
    await copyFile('examples/pods/hello.yaml', join(s.manifests, 'hello.yaml'));
    await copyFile('examples/pods/web.yaml', join(s.manifests, 'web.yaml'));
    const hello = await until('hello Succeeded', async () => {
      const p = await podRow(s.ui, 'hello');
      if (p) uids.add(p.uid);
      return p?.phase === 'Succeeded' ? p : undefined;
    });
    const detail = await (await fetch(`${s.ui}/api/pods/default/hello`)).json() as { logs: Record<string, string[]> };
    assert.match(detail.logs.hello!.join('\n'), /hello from burstlet on hello/);
    assert.equal(hello.status, 'Completed');
    const kubeconfig = /kubectl --kubeconfig (\S+)/.exec(s.output())?.[1];
    assert.ok(kubeconfig, 'standalone prints a kubeconfig for kubectl');
    const { spawnSync } = await import('node:child_process');
    if (spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0) {
      const logs = spawnSync('kubectl', ['--kubeconfig', kubeconfig, 'logs', 'hello'], { encoding: 'utf8', timeout: 60_000 });
      assert.match(logs.stdout, /hello from burstlet on hello/, logs.stderr);
      const wide = spawnSync('kubectl', ['--kubeconfig', kubeconfig, 'get', 'pods', '-o', 'wide'], { encoding: 'utf8', timeout: 60_000 });
      assert.match(wide.stdout, /hello\s+0\/1\s+Completed/, wide.stderr);
    }
    await until('web Ready', async () => {
      const p = await podRow(s.ui, 'web');
      if (p) uids.add(p.uid);
      for (const pid of await descendants(s.child.pid!)) seenPids.add(pid);
      return p?.ready === '1/1';
    });
    const page = await until('web answers on its hostPort', async () => (await fetch('http://127.0.0.1:18080/')).text());
    assert.match(page, /served by burstlet/);

    // Editing a manifest replaces the pod (new UID); removing the file deletes it.
    const before = (await podRow(s.ui, 'hello'))!.uid;
    await writeFile(join(s.manifests, 'hello.yaml'), (await import('node:fs')).readFileSync('examples/pods/hello.yaml', 'utf8').replace('hello from burstlet', 'hello again'));
    const replaced = await until('hello replaced', async () => {
      const p = await podRow(s.ui, 'hello');
      return p && p.uid !== before ? p : undefined;
    });
    uids.add(replaced.uid);
    await rm(join(s.manifests, 'hello.yaml'));
    await until('hello deleted', async () => !(await podRow(s.ui, 'hello')));
  } finally {
    for (const pid of await descendants(s.child.pid!)) seenPids.add(pid);
    const code = await s.stop();
    assert.equal(code, 0, s.output().slice(-3000));
  }
  assert.deepEqual(await alive([...seenPids]), [], 'no process of the run is left');
  assert.deepEqual(await mountsUnder(s.stateDir), [], 'no mount is left');
  assert.deepEqual(await cgroupsMatching([...uids]), [], 'no cgroup is left');
});

test('the UI refuses to bind beyond loopback without auth', async () => {
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync('bin/burstlet', ['standalone', '--ui', '0.0.0.0:0', '--log-level', 'silent'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /beyond loopback, without auth/);
});
