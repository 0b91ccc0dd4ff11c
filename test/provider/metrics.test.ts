import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createProviderMetrics } from '../../provider/metrics.ts';

test('each provider has its own registry with the burstlet metrics; setPodPhases resets absent phases', async () => {
  const a = createProviderMetrics({ processMetrics: false });
  const b = createProviderMetrics({ processMetrics: false });
  a.setPodPhases({ Running: 2, Pending: 1 });
  a.setPodPhases({ Running: 4 });
  a.startLatency.observe({ pool: 'default' }, 0.3);
  a.queueDepth.set({ pool: 'default', state: 'waiting' }, 7);
  a.deadLetters.inc({ source: 'events' });
  const text = await a.registry.metrics();
  assert.match(text, /^burstlet_pods\{phase="Running"\} 4$/m);
  assert.match(text, /^burstlet_pods\{phase="Pending"\} 0$/m);
  assert.match(text, /^burstlet_pod_start_seconds_bucket\{le="0.5",pool="default"\} 1$/m);
  assert.match(text, /^burstlet_queue_jobs\{pool="default",state="waiting"\} 7$/m);
  assert.match(text, /^burstlet_dead_letters_total\{source="events"\} 1$/m);
  assert.match(await b.registry.metrics(), /^burstlet_pods\{phase="Running"\} 0$/m);
  assert.doesNotMatch(text, /^process_/m);
  assert.match(await createProviderMetrics().registry.metrics(), /^process_resident_memory_bytes /m);
});
