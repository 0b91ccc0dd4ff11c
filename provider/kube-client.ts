/**
 * The provider's Kubernetes client: @kubernetes/client-node's KubeConfig for credentials
 * (kubeconfig file, in-cluster service account, exec plugins, client certs) and its Watch
 * for streams; plain JSON requests for the rest, so objects stay exactly as the API server
 * sent them (the generated models turn timestamps into Dates and drop unknown fields).
 * Requests are rate limited the way the kubelet splits its clients (see RequestBudget):
 * QPS 50 / burst 100 for API calls, a separate 50/100 for Events, none for heartbeats.
 */
import { KubeConfig, Watch } from '@kubernetes/client-node';
import * as http from 'node:http';
import * as https from 'node:https';
import type { ProviderMetrics } from './metrics.ts';
import { TokenBucket, type RateLimiter } from './token-bucket.ts';

/** A Kubernetes object as JSON; the fields the provider reads are typed where used. */
export type KubeObject = Record<string, any>;

/** A non-2xx answer: HTTP status plus the API's Status reason and message. */
export class KubeApiError extends Error {
  readonly status: number;
  readonly reason: string;
  readonly body: unknown;
  constructor(status: number, reason: string, message: string, body: unknown) {
    super(`${status} ${reason}: ${message}`);
    this.name = 'KubeApiError';
    this.status = status;
    this.reason = reason;
    this.body = body;
  }
}

export const isNotFound = (err: unknown): boolean => err instanceof KubeApiError && err.status === 404;
export const isConflict = (err: unknown): boolean => err instanceof KubeApiError && err.status === 409;
export const isAlreadyExists = (err: unknown): boolean => err instanceof KubeApiError && err.status === 409 && err.reason === 'AlreadyExists';

export type PatchType = 'merge' | 'strategic' | 'json';
const PATCH_CONTENT_TYPE: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
};

/**
 * Which client budget a request spends, as the kubelet splits its clients:
 *  - `default`: the main bucket (the kubelet's kubeAPIQPS/kubeAPIBurst, 50/100);
 *  - `status`: the main bucket too, served before `default` waiters — pods/status writes
 *    finish what pods already running do, reads and token requests start new pods;
 *  - `final`: the main bucket, before everything else — a pod's grace-0 delete, its last request;
 *  - `event`: a bucket of its own (eventRecordQPS/eventBurst, 50/100);
 *  - `heartbeat`: not limited — Node status and Lease renewals, like the kubelet's heartbeat
 *    client (QPS -1), so that pod churn can never make the node look dead.
 */
export type RequestBudget = 'default' | 'status' | 'final' | 'event' | 'heartbeat';

const PRIORITY: Record<RequestBudget, number> = { default: 0, status: 1, final: 2, event: 0, heartbeat: 0 };

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  /**
   * The JSON body, or a function that builds it when the rate limiter lets the request go —
   * so a write that waited for its turn carries the newest state (pod status coalescing).
   * A function returning undefined cancels the request (it resolves undefined; the token is spent).
   */
  body?: unknown;
  patch?: PatchType;
  /** Default `default`. */
  budget?: RequestBudget;
}

/** One event of a watch stream (ADDED, MODIFIED, DELETED, BOOKMARK, ERROR). */
export interface WatchEvent {
  type: string;
  object: KubeObject;
}

/**
 * What the controllers need from the API server. `request` rejects with KubeApiError on a
 * non-2xx answer; `watch` calls `onEvent` per line and `onDone` once when the stream ends
 * (error or not) — `stop()` ends it without calling `onDone` with an error.
 */
export interface Kube {
  request<T = KubeObject>(method: string, path: string, options?: RequestOptions): Promise<T>;
  watch(path: string, query: Record<string, string>, onEvent: (e: WatchEvent) => void, onDone: (err: unknown) => void): Promise<{ stop(): void }>;
  close(): void;
}

export interface KubeClientOptions {
  /** kubeconfig path; unset → in-cluster config when in a pod, else the default kubeconfig. */
  kubeconfig?: string;
  /** Or a KubeConfig already loaded (tests). */
  config?: KubeConfig;
  qps?: number;
  burst?: number;
  /** Separate limit for Event writes, like the kubelet's --event-qps/--event-burst (50/100). */
  eventQps?: number;
  eventBurst?: number;
  /** Server-side timeout of each watch (seconds); the watch is re-opened after it. */
  watchTimeoutSeconds?: number;
}

export function loadKubeConfig(path: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else if (process.env.KUBERNETES_SERVICE_HOST) kc.loadFromCluster();
  else kc.loadFromDefault();
  if (!kc.getCurrentCluster()) throw new Error('kubeconfig has no current cluster');
  return kc;
}

/**
 * client-node refuses an `http:` server unless skipTLSVerify is set, although there is no
 * TLS to verify (kubectl accepts such kubeconfigs): a plain-HTTP server named explicitly in
 * the kubeconfig is taken as meant.
 */
export function allowPlainHttp(kc: KubeConfig): KubeConfig {
  const cluster = kc.getCurrentCluster();
  if (!cluster?.server.startsWith('http:') || cluster.skipTLSVerify) return kc;
  const out = new KubeConfig();
  out.loadFromOptions({
    clusters: kc.clusters.map((c) => (c.name === cluster.name ? { ...c, skipTLSVerify: true } : c)),
    users: kc.users,
    contexts: kc.contexts,
    currentContext: kc.currentContext,
  });
  return out;
}

export class KubeClient implements Kube {
  readonly config: KubeConfig;
  readonly limiter: RateLimiter;
  readonly eventLimiter: RateLimiter;
  #metrics: Pick<ProviderMetrics, 'kubeRequests' | 'kubeRateLimitWait'> | undefined;
  readonly #server: URL;
  readonly #watch: Watch;
  #agent: http.Agent | undefined;
  #auth: { at: number; headers: Record<string, string>; auth?: string } | undefined;

  constructor(options: KubeClientOptions = {}) {
    this.config = allowPlainHttp(options.config ?? loadKubeConfig(options.kubeconfig));
    this.limiter = new TokenBucket(options.qps ?? 50, options.burst ?? 100);
    this.eventLimiter = new TokenBucket(options.eventQps ?? 50, options.eventBurst ?? 100);
    this.#server = new URL(this.config.getCurrentCluster()!.server);
    this.#watch = new Watch(this.config);
    // Private in client-node but the only way to let a quiet watch live past 30 s.
    (this.#watch as unknown as { requestTimeoutMs: number }).requestTimeoutMs = ((options.watchTimeoutSeconds ?? 300) + 30) * 1000;
  }

  /** Counts requests and rate-limiter waits into these metrics from now on. */
  instrument(metrics: Pick<ProviderMetrics, 'kubeRequests' | 'kubeRateLimitWait'>): void {
    this.#metrics = metrics;
  }

  async request<T = KubeObject>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const budget = options.budget ?? 'default';
    if (budget !== 'heartbeat') {
      const limiter = budget === 'event' ? this.eventLimiter : this.limiter;
      const waitStart = performance.now();
      await limiter.take(PRIORITY[budget]);
      this.#metrics?.kubeRateLimitWait.observe({ limiter: budget === 'event' ? 'event' : 'api' }, (performance.now() - waitStart) / 1000);
    }
    const lazy = typeof options.body === 'function';
    const body = lazy ? (options.body as () => unknown)() : options.body;
    if (lazy && body === undefined) return undefined as T;
    let code = 'error';
    try {
      const out = await this.#send<T>(method, path, options, body);
      code = '2xx';
      return out;
    } catch (err) {
      if (err instanceof KubeApiError) code = String(err.status);
      throw err;
    } finally {
      this.#metrics?.kubeRequests.inc({ verb: method, resource: resourceOf(path), code });
    }
  }

  async #send<T>(method: string, path: string, options: RequestOptions, json: unknown): Promise<T> {
    const url = new URL(this.#server.pathname.replace(/\/$/, '') + path, this.#server);
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const body = json === undefined ? undefined : Buffer.from(JSON.stringify(json));
    const { headers, auth, agent } = await this.#transport();
    const reqHeaders: Record<string, string> = { ...headers, accept: 'application/json' };
    if (body) {
      reqHeaders['content-type'] = options.patch ? PATCH_CONTENT_TYPE[options.patch] : 'application/json';
      reqHeaders['content-length'] = String(body.length);
    }
    const mod = url.protocol === 'https:' ? https : http;
    const send = () => new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = mod.request(url, { method, headers: reqHeaders, agent, auth }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('error', (err: NodeJS.ErrnoException) => reject(Object.assign(err, { reusedSocket: req.reusedSocket })));
      req.end(body);
    });
    // A kept-alive connection the server closed just before our request reached it: the
    // request was not processed, so sending it again on a fresh connection is safe.
    const { status, text } = await send().catch((err) => (err.reusedSocket && err.code === 'ECONNRESET' ? send() : Promise.reject(err)));
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = text;
    }
    if (status < 200 || status > 299) {
      const s = (parsed ?? {}) as { reason?: string; message?: string };
      throw new KubeApiError(status, s.reason ?? String(status), s.message ?? text.slice(0, 200), parsed);
    }
    return parsed as T;
  }

  async watch(path: string, query: Record<string, string>, onEvent: (e: WatchEvent) => void, onDone: (err: unknown) => void): Promise<{ stop(): void }> {
    await this.limiter.take();
    let stopped = false;
    const controller = await this.#watch.watch(
      path,
      query,
      (type: string, object: KubeObject) => {
        if (!stopped) onEvent({ type, object });
      },
      (err: unknown) => {
        if (!stopped) onDone(err);
        stopped = true;
      },
    );
    return {
      stop() {
        stopped = true;
        controller.abort();
      },
    };
  }

  close(): void {
    this.#agent?.destroy();
  }

  // Credentials may rotate (in-cluster token files, exec plugins): re-read every 30 s.
  async #transport(): Promise<{ headers: Record<string, string>; auth?: string; agent: http.Agent }> {
    const now = Date.now();
    if (!this.#auth || now - this.#auth.at > 30_000) {
      const opts: https.RequestOptions & { headers?: Record<string, string> } = {};
      await this.config.applyToHTTPSOptions(opts);
      this.#auth = { at: now, headers: { ...(opts.headers ?? {}) }, auth: opts.auth ?? undefined };
      if (!this.#agent) {
        this.#agent = this.#server.protocol === 'https:'
          ? new https.Agent({ keepAlive: true, maxSockets: 64, ca: opts.ca, cert: opts.cert, key: opts.key, rejectUnauthorized: opts.rejectUnauthorized, servername: opts.servername })
          : new http.Agent({ keepAlive: true, maxSockets: 64 });
      }
    }
    return { headers: this.#auth.headers, auth: this.#auth.auth, agent: this.#agent! };
  }
}

/** `pods`, `pods/status`, `leases`… of an API path (metrics label). */
export function resourceOf(path: string): string {
  let segs = path.split('?')[0]!.split('/').filter(Boolean);
  segs = segs[0] === 'api' ? segs.slice(2) : segs.slice(3);
  if (segs[0] === 'namespaces' && segs.length >= 3) segs = segs.slice(2);
  return segs[2] ? `${segs[0]}/${segs[2]}` : (segs[0] ?? '');
}

/** URL path helpers, so controllers never build paths by hand. */
export const paths = {
  node: (name: string) => `/api/v1/nodes/${name}`,
  nodes: () => '/api/v1/nodes',
  lease: (ns: string, name: string) => `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/${name}`,
  leases: (ns: string) => `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases`,
  pods: () => '/api/v1/pods',
  pod: (ns: string, name: string) => `/api/v1/namespaces/${ns}/pods/${name}`,
  events: (ns: string) => `/api/v1/namespaces/${ns}/events`,
  configMap: (ns: string, name: string) => `/api/v1/namespaces/${ns}/configmaps/${name}`,
  secret: (ns: string, name: string) => `/api/v1/namespaces/${ns}/secrets/${name}`,
  token: (ns: string, sa: string) => `/api/v1/namespaces/${ns}/serviceaccounts/${sa}/token`,
  runtimeClass: (name: string) => `/apis/node.k8s.io/v1/runtimeclasses/${name}`,
};
