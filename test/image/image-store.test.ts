import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ImageStore, type ImageRecord } from '../../workers/image/image-store.ts';

const id = (c: string) => `sha256:${c.repeat(64)}`;
function record(c: string, tags: string[], byDigest = false): ImageRecord {
  return {
    id: id(c), repoTags: tags, repoDigests: [`r/x@${id(c)}`], byDigest, manifestDigest: id(c), blobs: [id(c)], chainIds: [id(c)], size: 1,
    config: { entrypoint: [], cmd: [], env: [], workingDir: '', user: '', stopSignal: '', exposedPorts: [], labels: {}, os: 'linux', architecture: 'amd64', diffIds: [] },
    pulledAt: '2026-01-01T00:00:00Z',
  };
}

test('a moved tag orphans an image named only by tags, not one pulled by digest', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'burstlet-images-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = new ImageStore(dir);
  await store.put(record('a', ['r/x:latest']));
  await store.put(record('b', ['r/x:latest', 'r/x:1'], true));
  await store.put(record('c', ['r/x:latest']));
  assert.equal(await store.retag('r/x:latest', id('c')), true);
  assert.equal(await store.get(id('a')), undefined);
  assert.deepEqual((await store.get(id('b')))?.repoTags, ['r/x:1']);
  assert.equal((await store.find('r/x:latest'))?.id, id('c'));
  assert.equal((await store.find(`r/x@${id('b')}`))?.id, id('b'));
  await store.put(record('d', ['r/x:1']));
  assert.equal(await store.retag('r/x:1', id('d')), false, 'b stays: it was pulled by digest');
  assert.deepEqual((await store.get(id('b')))?.repoTags, []);
});
