import assert from 'node:assert/strict';
import { test } from 'node:test';
import { strategicMergePatch } from '../support/kube-apiserver/strategic-merge.ts';

const pod = () => ({
  metadata: { name: 'p', finalizers: ['a'] },
  spec: { containers: [{ name: 'c1', image: 'i1', env: [{ name: 'A', value: '1' }] }, { name: 'c2', image: 'i2' }] },
  status: { conditions: [{ type: 'Ready', status: 'False' }, { type: 'PodScheduled', status: 'True' }], containerStatuses: [{ name: 'c1' }, { name: 'c2' }] },
});

test('pod conditions merge by type; containerStatuses (no merge key) are replaced', () => {
  const out = strategicMergePatch('Pod', pod(), { status: { conditions: [{ type: 'Ready', status: 'True' }, { type: 'Initialized', status: 'True' }], containerStatuses: [{ name: 'c2' }] } }) as any;
  assert.deepEqual(out.status.conditions, [{ type: 'Ready', status: 'True' }, { type: 'PodScheduled', status: 'True' }, { type: 'Initialized', status: 'True' }]);
  assert.deepEqual(out.status.containerStatuses, [{ name: 'c2' }]);
});

test('containers merge by name, nested env by name', () => {
  const out = strategicMergePatch('Pod', pod(), { spec: { containers: [{ name: 'c1', image: 'new', env: [{ name: 'B', value: '2' }] }] } }) as any;
  assert.equal(out.spec.containers.length, 2);
  assert.equal(out.spec.containers[0].image, 'new');
  assert.deepEqual(out.spec.containers[0].env, [{ name: 'A', value: '1' }, { name: 'B', value: '2' }]);
  assert.equal(out.spec.containers[1].image, 'i2');
});

test('$patch: delete removes one list element, $patch: replace replaces list or map', () => {
  let out = strategicMergePatch('Pod', pod(), { status: { conditions: [{ type: 'Ready', $patch: 'delete' }] } }) as any;
  assert.deepEqual(out.status.conditions, [{ type: 'PodScheduled', status: 'True' }]);
  out = strategicMergePatch('Pod', pod(), { status: { conditions: [{ type: 'X', status: 'True' }, { $patch: 'replace' }] } }) as any;
  assert.deepEqual(out.status.conditions, [{ type: 'X', status: 'True' }]);
  out = strategicMergePatch('Pod', pod(), { status: { $patch: 'replace', phase: 'Running' } }) as any;
  assert.deepEqual(out.status, { phase: 'Running' });
});

test('$setElementOrder reorders, $retainKeys drops unlisted keys, $deleteFromPrimitiveList and primitive union on finalizers', () => {
  let out = strategicMergePatch('Pod', pod(), { status: { '$setElementOrder/conditions': [{ type: 'PodScheduled' }, { type: 'Ready' }], conditions: [{ type: 'Ready', status: 'True' }] } }) as any;
  assert.deepEqual(out.status.conditions.map((c: any) => c.type), ['PodScheduled', 'Ready']);
  assert.equal(out.status.conditions[1].status, 'True');
  out = strategicMergePatch('Pod', pod(), { metadata: { finalizers: ['b', 'a'] } }) as any;
  assert.deepEqual(out.metadata.finalizers, ['a', 'b']);
  out = strategicMergePatch('Pod', pod(), { metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] } }) as any;
  assert.deepEqual(out.metadata.finalizers, []);
  out = strategicMergePatch('Pod', { spec: { x: 1, y: 2 } }, { spec: { $retainKeys: ['y', 'z'], z: 3 } }) as any;
  assert.deepEqual(out.spec, { y: 2, z: 3 });
});

test('node conditions and addresses merge by type; null deletes a field', () => {
  const node = { status: { conditions: [{ type: 'Ready', status: 'False' }], addresses: [{ type: 'InternalIP', address: '10.0.0.1' }] }, metadata: { labels: { a: '1', b: '2' } } };
  const out = strategicMergePatch('Node', node, {
    metadata: { labels: { a: null } },
    status: { conditions: [{ type: 'MemoryPressure', status: 'False' }], addresses: [{ type: 'Hostname', address: 'h' }, { type: 'InternalIP', address: '10.0.0.2' }] },
  }) as any;
  assert.deepEqual(out.metadata.labels, { b: '2' });
  assert.deepEqual(out.status.conditions.map((c: any) => c.type), ['Ready', 'MemoryPressure']);
  assert.deepEqual(out.status.addresses, [{ type: 'InternalIP', address: '10.0.0.2' }, { type: 'Hostname', address: 'h' }]);
});

test('a list element without its merge key is rejected', () => {
  assert.throws(() => strategicMergePatch('Pod', pod(), { status: { conditions: [{ status: 'True' }] } }), /does not contain declared merge key: type/);
});

test('unknown kinds merge like JSON merge patch (lists replaced)', () => {
  const out = strategicMergePatch('ConfigMap', { data: { a: '1' }, list: [1, 2] }, { data: { b: '2' }, list: [3] }) as any;
  assert.deepEqual(out, { data: { a: '1', b: '2' }, list: [3] });
});
