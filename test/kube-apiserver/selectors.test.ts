import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError } from '../support/kube-apiserver/status.ts';
import { fieldEquals, parseFieldSelector, parseLabelSelector } from '../support/kube-apiserver/selectors.ts';

test('label selector: equality, inequality, set and existence requirements', () => {
  const labels = { app: 'web', tier: 'front', env: 'prod' };
  const cases: [string, boolean][] = [
    ['', true], ['app=web', true], ['app==web', true], ['app=db', false], ['app!=db', true], ['missing!=x', true],
    ['app in (web,db)', true], ['app notin (web)', false], ['missing notin (x)', true], ['tier', true], ['!tier', false],
    ['!missing', true], ['app=web,tier in (front, back),!missing', true], ['app=web,env=dev', false],
  ];
  for (const [selector, expected] of cases) assert.equal(parseLabelSelector(selector)(labels), expected, selector);
});

test('label selector: unparsable input is a 400 BadRequest', () => {
  assert.throws(() => parseLabelSelector('app in web'), (err: ApiError) => err.code === 400 && err.status.reason === 'BadRequest');
});

test('field selector: =, == and != against known fields', () => {
  const known = ['metadata.name', 'spec.nodeName'];
  const fields = { 'metadata.name': 'p1', 'spec.nodeName': 'n1' };
  assert.equal(parseFieldSelector('spec.nodeName=n1', known, 'pods')(fields), true);
  assert.equal(parseFieldSelector('spec.nodeName==n2', known, 'pods')(fields), false);
  assert.equal(parseFieldSelector('spec.nodeName!=n2,metadata.name=p1', known, 'pods')(fields), true);
  assert.equal(parseFieldSelector('spec.nodeName=', known, 'pods')({ 'spec.nodeName': '' }), true);
});

test('field selector: an unsupported field label is a 400 naming it', () => {
  assert.throws(() => parseFieldSelector('spec.bogus=x', ['metadata.name'], '/v1, Resource=pods'), (err: ApiError) =>
    err.code === 400 && /field label not supported: spec\.bogus/.test(err.message));
});

test('fieldEquals extracts exact-match terms only', () => {
  assert.deepEqual(fieldEquals('spec.nodeName=n1,metadata.name!=x'), { 'spec.nodeName': 'n1' });
  assert.deepEqual(fieldEquals(undefined), {});
});
