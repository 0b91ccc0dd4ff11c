// What the apiserver forwards to a node's kubelet endpoint: pods/{name}/log and
// nodes/{name}/proxy/... . It dials https://<node address>:<daemonEndpoints port>, does not
// verify the kubelet's serving certificate (no --kubelet-certificate-authority) and presents
// its own client credentials (a bearer token or client certificate), never the caller's.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { request } from 'node:https';
import { isObject, type KubeObject } from './objects.ts';
import { ApiError, badRequest, invalid, notFound } from './status.ts';
import type { Store } from './store.ts';

/** The credentials and address preference the apiserver uses towards kubelets. */
export interface KubeletClientConfig {
  /** Bearer token sent to kubelets (the kubelet authenticates it with a TokenReview). */
  token?: string;
  /** Client certificate and key (PEM) instead of / besides the token. */
  cert?: string;
  key?: string;
  /** --kubelet-preferred-address-types. */
  addressTypes: string[];
}

/** kubeadm's --kubelet-preferred-address-types (the binary default starts with Hostname). */
export const DEFAULT_ADDRESS_TYPES = ['InternalIP', 'ExternalIP', 'Hostname'];

/** https://host:port of a node's kubelet, by the preferred address types. */
export function kubeletBase(store: Store, nodeName: string, cfg: KubeletClientConfig): string {
  const node = store.get('nodes', undefined, nodeName);
  if (!node) throw notFound({ group: '', resource: 'nodes' }, nodeName);
  const status = isObject(node.status) ? node.status : {};
  const addresses = Array.isArray(status.addresses) ? status.addresses.filter(isObject) : [];
  let host: string | undefined;
  for (const type of cfg.addressTypes) {
    host ??= addresses.find((a) => a.type === type)?.address as string | undefined;
  }
  if (!host) throw new ApiError(500, 'InternalError', `Internal error occurred: no preferred addresses found; known addresses: ${JSON.stringify(addresses)}`);
  const endpoints = isObject(status.daemonEndpoints) && isObject(status.daemonEndpoints.kubeletEndpoint) ? status.daemonEndpoints.kubeletEndpoint : {};
  const port = typeof endpoints.Port === 'number' && endpoints.Port > 0 ? endpoints.Port : 10250;
  return `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

const LOG_PARAMS = ['follow', 'previous', 'sinceSeconds', 'sinceTime', 'timestamps', 'tailLines', 'limitBytes'];
const BOOL_PARAMS = ['follow', 'previous', 'timestamps'];

/** Resolves GET pods/{name}/log into the kubelet's /containerLogs URL, with the apiserver's checks. */
export function podLogTarget(store: Store, pod: KubeObject, url: URL, cfg: KubeletClientConfig): string {
  const spec = isObject(pod.spec) ? pod.spec : {};
  const name = pod.metadata.name!;
  const containers = ['containers', 'initContainers', 'ephemeralContainers'].flatMap((k) => (Array.isArray(spec[k]) ? (spec[k] as unknown[]).filter(isObject) : []));
  const names = containers.map((c) => String(c.name));
  let container = url.searchParams.get('container') ?? '';
  if (!container) {
    if (names.length !== 1) throw badRequest(`a container name must be specified for pod ${name}, choose one of: [${names.join(' ')}]`);
    container = names[0];
  }
  if (!names.includes(container)) throw badRequest(`container ${container} is not valid for pod ${name}`);
  const p = url.searchParams;
  const causes = [];
  if (p.has('sinceSeconds') && p.has('sinceTime')) causes.push({ reason: 'FieldValueForbidden', message: 'Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified', field: '' });
  for (const [field, min] of [['sinceSeconds', 1], ['tailLines', 0], ['limitBytes', 1]] as const) {
    if (p.has(field) && !(Number(p.get(field)) >= min)) causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: ${p.get(field)}: must be greater than ${min === 0 ? 'or equal to 0' : '0'}`, field });
  }
  if (causes.length) throw invalid('', 'PodLogOptions', '', causes);
  if (!spec.nodeName) throw badRequest(`pod ${name} does not have a host assigned`);
  // As LogLocation builds it: booleans only when true, keys sorted by url.Values.Encode.
  const query = new URLSearchParams();
  for (const key of [...LOG_PARAMS].sort()) {
    const value = p.get(key);
    if (value === null) continue;
    if (BOOL_PARAMS.includes(key)) {
      if (value === 'true' || value === '1') query.set(key, 'true');
    } else query.set(key, value);
  }
  const qs = query.toString();
  return `${kubeletBase(store, String(spec.nodeName), cfg)}/containerLogs/${encodeURIComponent(pod.metadata.namespace!)}/${encodeURIComponent(name)}/${encodeURIComponent(container)}${qs ? `?${qs}` : ''}`;
}

/**
 * Forwards a request to the kubelet and streams the answer back. Non-2xx answers of pods/log
 * become Status errors as the apiserver's response checker makes them; proxy answers pass through.
 */
export function forward(target: string, cfg: KubeletClientConfig, req: IncomingMessage, res: ServerResponse, mode: 'log' | 'proxy'): Promise<void> {
  return new Promise((resolve) => {
    const headers: Record<string, string> = {};
    if (cfg.token) headers.Authorization = `Bearer ${cfg.token}`;
    for (const h of ['content-type', 'content-length', 'accept']) if (req.headers[h]) headers[h] = String(req.headers[h]);
    const upstream = request(target, { method: mode === 'log' ? 'GET' : req.method, headers, cert: cfg.cert, key: cfg.key, rejectUnauthorized: false }, (up) => {
      const code = up.statusCode ?? 502;
      if (mode === 'log' && (code < 200 || code > 206)) return void collectError(up, code, res).then(resolve);
      const out: Record<string, string> = {};
      for (const h of ['content-type', 'content-length', 'transfer-encoding', 'cache-control']) if (up.headers[h]) out[h] = String(up.headers[h]);
      res.writeHead(code, out);
      up.pipe(res);
      up.on('end', () => resolve());
      up.on('error', () => {
        res.destroy();
        resolve();
      });
    });
    upstream.on('error', (err) => {
      const status = new ApiError(mode === 'log' ? 500 : 503, mode === 'log' ? 'InternalError' : 'ServiceUnavailable', `error trying to reach service: ${err.message}`).status;
      if (!res.headersSent) res.writeHead(status.code, { 'Content-Type': 'application/json' }).end(JSON.stringify(status));
      else res.destroy();
      resolve();
    });
    // A client that goes away (e.g. stops following logs) closes the kubelet connection too.
    res.on('close', () => upstream.destroy());
    if (mode === 'proxy') req.pipe(upstream);
    else upstream.end();
  });
}

function collectError(up: IncomingMessage, code: number, res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    up.on('data', (c: Buffer) => chunks.push(c));
    up.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8').slice(0, 4096);
      const reason = code === 400 ? 'BadRequest' : code === 404 ? 'NotFound' : code === 500 ? 'InternalError' : code === 401 ? 'Unauthorized' : code === 403 ? 'Forbidden' : 'Unknown';
      const status = new ApiError(code, reason, text).status;
      res.writeHead(code, { 'Content-Type': 'application/json' }).end(JSON.stringify(status));
      resolve();
    });
  });
}
