import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Store } from '../support/kube-apiserver/store.ts';

const obj = (name: string, ns = 'default') => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns } });

test('every write bumps one global resourceVersion and stamps it on the object', () => {
  const store = new Store();
  const a = store.create('configmaps', obj('a'));
  const b = store.create('secrets', obj('b'));
  const a2 = store.update('configmaps', { ...a, data: { x: '1' } } as never);
  const gone = store.remove('configmaps', 'default', 'a')!;
  assert.deepEqual([a, b, a2, gone].map((o) => o.metadata.resourceVersion), ['1', '2', '3', '4']);
  assert.equal(store.resourceVersion, 4);
  assert.equal(store.get('configmaps', 'default', 'a'), undefined);
});

test('returned objects are copies', () => {
  const store = new Store();
  const a = store.create('configmaps', obj('a'));
  a.metadata.name = 'mutated';
  assert.equal(store.get('configmaps', 'default', 'a')!.metadata.name, 'a');
});

test('list is in namespace/name order and filters by namespace', () => {
  const store = new Store();
  for (const [n, ns] of [['b', 'x'], ['a', 'y'], ['a', 'x']]) store.create('configmaps', obj(n, ns));
  assert.deepEqual(store.list('configmaps').map((o) => `${o.metadata.namespace}/${o.metadata.name}`), ['x/a', 'x/b', 'y/a']);
  assert.deepEqual(store.list('configmaps', 'y').map((o) => o.metadata.name), ['a']);
});

test('history is bounded: changes before the window are gone, compact() drops all', () => {
  const store = new Store({ historySize: 3 });
  for (let i = 0; i < 5; i++) store.create('configmaps', obj(`c${i}`));
  assert.equal(store.changesSince(1), undefined, 'rv 1 is older than the window');
  assert.deepEqual(store.changesSince(2)!.map((c) => c.rv), [3, 4, 5]);
  store.compact();
  assert.equal(store.changesSince(4), undefined);
  assert.deepEqual(store.changesSince(5), []);
});

test('listeners see each change synchronously with the previous state', () => {
  const store = new Store();
  const seen: string[] = [];
  const off = store.subscribe((c) => seen.push(`${c.type}:${c.prev?.metadata.resourceVersion ?? '-'}`));
  const a = store.create('configmaps', obj('a'));
  store.update('configmaps', a);
  off();
  store.remove('configmaps', 'default', 'a');
  assert.deepEqual(seen, ['ADDED:-', 'MODIFIED:1']);
});
