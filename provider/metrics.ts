/**
 * The provider's own Prometheus metrics (served on the kubelet API's /metrics). One registry
 * per provider instance — never prom-client's global one — so tests and several providers in
 * one process do not collide. The pod controller, status writer and queue poller update these;
 * the kubelet API records its request counts.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export const POD_PHASES = ['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown'] as const;

export interface ProviderMetrics {
  readonly registry: Registry;
  /** Pods on the node by phase; set the whole picture with `setPodPhases`. */
  readonly podsByPhase: Gauge<'phase'>;
  /** Seconds from enqueue to the pod first reported Running, per pool. */
  readonly startLatency: Histogram<'pool'>;
  /** Jobs per pool and BullMQ state (waiting, active, delayed, failed). */
  readonly queueDepth: Gauge<'pool' | 'state'>;
  /** Live workers per pool (heartbeat key present). */
  readonly workersLive: Gauge<'pool'>;
  /** Worker PodEvents consumed, by result: applied, stale (older seq), failed. */
  readonly eventsApplied: Counter<'result'>;
  /** Malformed Redis messages moved to dead-letter, by source stream kind. */
  readonly deadLetters: Counter<'source'>;
  /** Seconds per pods/status write, and failed writes by reason. */
  readonly statusWriteLatency: Histogram;
  readonly statusWriteErrors: Counter<'reason'>;
  /** Kubelet API requests by route pattern, method and status code. */
  readonly apiRequests: Counter<'route' | 'method' | 'code'>;
  /** Requests of the provider's Kubernetes client by verb, resource (`pods/status`) and code. */
  readonly kubeRequests: Counter<'verb' | 'resource' | 'code'>;
  /** Seconds a Kubernetes request waited for its rate limiter, per limiter. */
  readonly kubeRateLimitWait: Histogram<'limiter'>;
  /** Events not sent because the Event budget or queue was exhausted (the kubelet drops them too). */
  readonly eventsDropped: Counter<'reason'>;
  /** Sets every phase's gauge (phases absent from `counts` become 0). */
  setPodPhases(counts: Partial<Record<string, number>>): void;
}

export interface ProviderMetricsOptions {
  /** Also export Node's process metrics (process_*, nodejs_*); default true. */
  processMetrics?: boolean;
}

export function createProviderMetrics(options: ProviderMetricsOptions = {}): ProviderMetrics {
  const registry = new Registry();
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const podsByPhase = new Gauge({ name: 'burstlet_pods', help: 'Pods on the virtual node by phase', labelNames: ['phase'], registers });
  for (const phase of POD_PHASES) podsByPhase.set({ phase }, 0);
  return {
    registry,
    podsByPhase,
    startLatency: new Histogram({
      name: 'burstlet_pod_start_seconds',
      help: 'Seconds from enqueue to the pod first reported Running',
      labelNames: ['pool'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers,
    }),
    queueDepth: new Gauge({ name: 'burstlet_queue_jobs', help: 'Pod jobs per pool and queue state', labelNames: ['pool', 'state'], registers }),
    workersLive: new Gauge({ name: 'burstlet_workers_live', help: 'Workers with a live heartbeat per pool', labelNames: ['pool'], registers }),
    eventsApplied: new Counter({ name: 'burstlet_pod_events_total', help: 'Worker pod events consumed, by result', labelNames: ['result'], registers }),
    deadLetters: new Counter({ name: 'burstlet_dead_letters_total', help: 'Malformed Redis messages moved to dead-letter', labelNames: ['source'], registers }),
    statusWriteLatency: new Histogram({
      name: 'burstlet_status_write_seconds',
      help: 'Seconds per pods/status write',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    statusWriteErrors: new Counter({ name: 'burstlet_status_write_errors_total', help: 'Failed pods/status writes by reason', labelNames: ['reason'], registers }),
    apiRequests: new Counter({ name: 'burstlet_kubelet_api_requests_total', help: 'Kubelet API requests by route, method and status code', labelNames: ['route', 'method', 'code'], registers }),
    kubeRequests: new Counter({ name: 'burstlet_kube_requests_total', help: 'Kubernetes API requests of the provider by verb, resource and code', labelNames: ['verb', 'resource', 'code'], registers }),
    kubeRateLimitWait: new Histogram({
      name: 'burstlet_kube_rate_limiter_wait_seconds',
      help: 'Seconds a Kubernetes API request waited for its client-side rate limiter',
      labelNames: ['limiter'],
      buckets: [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    eventsDropped: new Counter({ name: 'burstlet_events_dropped_total', help: 'Kubernetes Events dropped by the recorder, by reason', labelNames: ['reason'], registers }),
    setPodPhases(counts) {
      const phases = new Set<string>([...POD_PHASES, ...Object.keys(counts)]);
      for (const phase of phases) podsByPhase.set({ phase }, counts[phase] ?? 0);
    },
  };
}
