import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { LeaderElector } from '../../provider/leader-election.ts';
import { silentLogger } from '../../src/log.ts';
import { startEnv, waitFor, type ProviderEnv } from './support/env.ts';

let env: ProviderEnv;
before(async () => {
  env = await startEnv();
});
after(() => env.stop());

const elector = (identity: string, name: string, now?: () => number) =>
  new LeaderElector({ kube: env.kube, namespace: 'default', name, identity, leaseDurationSeconds: 15, retryPeriodMs: 20, log: silentLogger(), now });

test('leader election: one holder at a time; a standby takes over on release or when the holder stops renewing (kube test server)', async () => {
  const a = elector('a', 'lead-1');
  const b = elector('b', 'lead-1');
  assert.equal(await a.tryAcquireOrRenew(), true);
  assert.equal(await b.tryAcquireOrRenew(), false, 'held and fresh: b must wait');
  assert.equal(await a.tryAcquireOrRenew(), true, 'the holder renews');
  let bLeads = false;
  const waiting = b.acquire().then(() => (bLeads = true));
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(bLeads, false);
  await a.release();
  await waiting;
  const lease = await env.kube.request('GET', '/apis/coordination.k8s.io/v1/namespaces/default/leases/lead-1');
  assert.equal(lease.spec.holderIdentity, 'b');
  assert.equal(lease.spec.leaseTransitions, 1);
  await b.release();
});

test('leader election: an expired holder is replaced; a lost lease is reported (kube test server)', async () => {
  let now = Date.now();
  const a = elector('a', 'lead-2', () => now);
  const b = elector('b', 'lead-2', () => now);
  assert.equal(await a.tryAcquireOrRenew(), true);
  now += 16_000; // a stopped renewing 16 s ago: past its 15 s lease
  assert.equal(await b.tryAcquireOrRenew(), true, 'b takes over an expired lease');
  let lost = false;
  a.keepRenewing(() => (lost = true));
  await waitFor('a notices it lost the lease', () => lost);
  await b.release();
});
