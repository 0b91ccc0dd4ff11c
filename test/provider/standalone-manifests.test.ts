import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { diffPods, readManifests } from '../../provider/standalone/manifests.ts';

test('the shipped examples parse into four pods', async () => {
  const set = await readManifests('examples/pods', 'node-a');
  assert.deepEqual(set.problems, []);
  assert.deepEqual([...set.pods.keys()].sort(), ['default/batch', 'default/crashloop', 'default/hello', 'default/web']);
});

test('several documents per file, ConfigMaps kept, bad files reported not thrown', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'burstlet-manifests-'));
  await writeFile(join(dir, 'multi.yaml'), 'apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {containers: [{name: c, image: busybox}]}\n---\nkind: ConfigMap\napiVersion: v1\nmetadata: {name: cfg, namespace: team}\ndata: {k: v}\n');
  await writeFile(join(dir, 'b.json'), JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'b', namespace: 'x' }, spec: { containers: [] } }));
  await writeFile(join(dir, 'broken.yaml'), 'kind: Pod\nmetadata: {name: [}\n');
  await writeFile(join(dir, 'deploy.yaml'), 'kind: Deployment\nmetadata: {name: d}\n');
  await writeFile(join(dir, 'badname.yaml'), 'kind: Pod\nmetadata: {name: Bad_Name}\n');
  await writeFile(join(dir, 'notes.txt'), 'ignored');
  const set = await readManifests(dir, 'node-a');
  assert.deepEqual([...set.pods.keys()].sort(), ['default/a', 'x/b']);
  assert.deepEqual([...set.objects.keys()], ['configmap/team/cfg']);
  const problems = Object.fromEntries(set.problems.map((p) => [p.file, p.message]));
  assert.match(problems['deploy.yaml']!, /kind "Deployment" is not supported/);
  assert.match(problems['badname.yaml']!, /not a valid DNS-1123/);
  assert.ok(problems['broken.yaml']);
  await rm(dir, { recursive: true });
});

test('UIDs are stable for unchanged pods and change on edit: diff says added/replaced/removed', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'burstlet-manifests-'));
  const pod = (name: string, cmd: string) => `kind: Pod\napiVersion: v1\nmetadata: {name: ${name}}\nspec: {containers: [{name: c, image: busybox, command: [${cmd}]}]}\n`;
  await writeFile(join(dir, 'a.yaml'), pod('a', 'true'));
  await writeFile(join(dir, 'b.yaml'), pod('b', 'true'));
  const first = await readManifests(dir, 'n');
  const again = await readManifests(dir, 'n');
  assert.equal(first.pods.get('default/a')!.metadata.uid, again.pods.get('default/a')!.metadata.uid);
  assert.deepEqual(diffPods(first.pods, again.pods), { added: [], replaced: [], removed: [] });
  await writeFile(join(dir, 'a.yaml'), pod('a', 'false'));
  await rm(join(dir, 'b.yaml'));
  await writeFile(join(dir, 'c.yaml'), pod('c', 'true'));
  const d = diffPods(first.pods, (await readManifests(dir, 'n')).pods);
  assert.deepEqual(d.added.map((p) => p.metadata.name), ['c']);
  assert.deepEqual(d.replaced.map((r) => r.after.metadata.name), ['a']);
  assert.notEqual(d.replaced[0]!.before.metadata.uid, d.replaced[0]!.after.metadata.uid);
  assert.deepEqual(d.removed.map((p) => p.metadata.name), ['b']);
  assert.equal((await readManifests(join(dir, 'missing'), 'n')).problems.length, 1);
  await rm(dir, { recursive: true });
});
