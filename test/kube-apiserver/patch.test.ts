import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsonPatch, mergePatch } from '../support/kube-apiserver/patch.ts';
import type { ApiError } from '../support/kube-apiserver/status.ts';

test('merge patch follows the RFC 7386 examples', () => {
  const cases: [unknown, unknown, unknown][] = [
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [['a', 'b'], ['c', 'd'], ['c', 'd']],
    [{ a: 'b' }, ['c'], ['c']],
    [{ a: 'foo' }, null, null],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];
  for (const [target, patch, expected] of cases) assert.deepEqual(mergePatch(target, patch), expected, JSON.stringify(patch));
});

test('json patch: add, remove, replace, move, copy, test', () => {
  const doc = { a: { b: [1, 2] }, c: 'x' };
  const out = jsonPatch(doc, [
    { op: 'add', path: '/a/b/-', value: 3 },
    { op: 'add', path: '/a/b/0', value: 0 },
    { op: 'remove', path: '/a/b/1' },
    { op: 'replace', path: '/c', value: 'y' },
    { op: 'copy', from: '/c', path: '/d' },
    { op: 'move', from: '/d', path: '/e~1f' },
    { op: 'test', path: '/e~1f', value: 'y' },
  ]);
  assert.deepEqual(out, { a: { b: [0, 2, 3] }, c: 'y', 'e/f': 'y' });
  assert.deepEqual(doc, { a: { b: [1, 2] }, c: 'x' }, 'input untouched');
});

test('json patch: a failing test op rejects the whole patch with 422', () => {
  assert.throws(() => jsonPatch({ a: 1 }, [{ op: 'replace', path: '/a', value: 2 }, { op: 'test', path: '/a', value: 1 }]),
    (err: ApiError) => err.code === 422 && /test failed/.test(err.message));
});

test('json patch: removing or replacing a missing path is 422, a non-array patch is 400', () => {
  assert.throws(() => jsonPatch({}, [{ op: 'remove', path: '/nope' }]), (err: ApiError) => err.code === 422);
  assert.throws(() => jsonPatch({}, [{ op: 'replace', path: '/nope', value: 1 }]), (err: ApiError) => err.code === 422);
  assert.throws(() => jsonPatch({}, { op: 'add' }), (err: ApiError) => err.code === 400);
});
