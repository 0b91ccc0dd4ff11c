import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

const run = (...args: string[]) => spawnSync('bin/burstlet', args, { encoding: 'utf8' });

test('the test suite runs on the pinned Node 24', () => {
  assert.match(process.version, /^v24\./);
  const onPath = spawnSync('node', ['--version'], { encoding: 'utf8' }).stdout.trim();
  console.log(`node --version: ${onPath}`);
  // Under `npm test`, npm puts node_modules/.bin first on PATH: plain `node` is the pinned 24.
  if (process.env.npm_lifecycle_event === 'test') assert.match(onPath, /^v24\./);
});

test('burstlet --help lists the subcommands', () => {
  const r = run('--help');
  assert.equal(r.status, 0);
  for (const c of ['provider', 'worker', 'standalone']) assert.match(r.stdout, new RegExp(`^  ${c} `, 'm'));
});

test('each subcommand --help prints its flags', () => {
  for (const [c, flag] of [['provider', '--kubeconfig'], ['worker', '--pool'], ['standalone', '--pod-manifest-path']] as const) {
    const r = run(c, '--help');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`Usage: burstlet ${c}`));
    assert.match(r.stdout, new RegExp(flag));
    assert.match(r.stdout, /--redis VALUE/);
  }
});

test('a bad flag value exits 2 with one clear line', () => {
  const r = run('worker', '--max-pods', 'zero');
  assert.equal(r.status, 2);
  assert.equal(r.stderr.trim(), 'burstlet worker: invalid value for --max-pods: "zero" — expected an integer from 1 to 1000');
  const u = run('frobnicate');
  assert.equal(u.status, 2);
  assert.match(u.stderr, /unknown command "frobnicate"/);
});
