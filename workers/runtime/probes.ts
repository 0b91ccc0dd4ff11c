/**
 * Container probes and hook handlers (exec, httpGet, tcpSocket) with the kubelet's timing
 * fields. Network checks run from the host inside the pod's network namespace (nsenter +
 * the host's static busybox), so they work whether or not the pod has a routable IP.
 */
import { execFile } from 'node:child_process';

/** The Kubernetes v1 handler shapes burstlet reads (probe and lifecycle handler). */
export interface Handler {
  exec?: { command?: string[] };
  httpGet?: { path?: string; port: number | string; host?: string; scheme?: string; httpHeaders?: { name: string; value: string }[] };
  tcpSocket?: { port: number | string; host?: string };
  grpc?: unknown;
}

export interface ProbeSpec extends Handler {
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  successThreshold?: number;
  failureThreshold?: number;
}

/** Where handlers run: exec inside the container, network checks in the pod's netns. */
export interface HandlerTarget {
  exec(cmd: string[], timeoutSeconds: number): Promise<{ exitCode: number; output: string; timedOut: boolean }>;
  /** Network namespace path of the pod; undefined for host network. */
  netns?: string;
  /** Address checks go to when the handler names no host. */
  host: string;
  /** Named container ports. */
  ports: { name?: string; containerPort: number }[];
}

export interface HandlerResult { ok: boolean; message: string }

const BUSYBOX = '/bin/busybox';

function resolvePort(port: number | string, target: HandlerTarget): number | undefined {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  return target.ports.find((p) => p.name === port)?.containerPort;
}

function runHost(argv: string[], netns: string | undefined, timeoutMs: number, input = ''): Promise<{ code: number; out: string; err: string }> {
  const [cmd, args] = netns ? ['nsenter', [`--net=${netns}`, ...argv]] : [argv[0], argv.slice(1)];
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { timeout: timeoutMs, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, out: stdout, err: stderr.trim() });
    });
    child.stdin?.on('error', () => undefined); // nc gone before reading (refused): EPIPE is expected
    child.stdin?.end(input);
  });
}

/**
 * HTTP GET over busybox nc (static busybox's wget crashes resolving names): success is a
 * status from 200 to 399, as for the kubelet; redirects are not followed.
 */
async function httpGet(h: NonNullable<Handler['httpGet']>, host: string, port: number, target: HandlerTarget, timeoutSeconds: number): Promise<HandlerResult> {
  const path = h.path ?? '/';
  const url = `http://${host}:${port}${path}`;
  if ((h.scheme ?? 'HTTP').toUpperCase() !== 'HTTP') return { ok: false, message: `Get "${url}": only the HTTP scheme is supported` };
  const headers = (h.httpHeaders ?? []).map((x) => `${x.name}: ${x.value}\r\n`).join('');
  const request = `GET ${path} HTTP/1.0\r\nHost: ${host}:${port}\r\nUser-Agent: kube-probe/1.31\r\nAccept: */*\r\n${headers}\r\n`;
  const r = await runHost([BUSYBOX, 'nc', '-w', String(Math.max(1, timeoutSeconds)), host, String(port)], target.netns, Math.max(1, timeoutSeconds) * 1000 + 1000, request);
  const status = /^HTTP\/\d\.\d (\d{3})/.exec(r.out)?.[1];
  if (!status) return { ok: false, message: `Get "${url}": ${r.err || 'no HTTP response'}` };
  const code = Number(status);
  return code >= 200 && code < 400 ? { ok: true, message: '' } : { ok: false, message: `HTTP probe failed with statuscode: ${code}` };
}

/** Runs one handler once. Never throws: failures are `{ ok: false, message }`. */
export async function runHandler(h: Handler, target: HandlerTarget, timeoutSeconds: number): Promise<HandlerResult> {
  const timeoutMs = Math.max(1, timeoutSeconds) * 1000;
  try {
    if (h.exec) {
      const r = await target.exec(h.exec.command ?? [], timeoutSeconds);
      if (r.timedOut) return { ok: false, message: `command timed out after ${timeoutSeconds}s` };
      return { ok: r.exitCode === 0, message: r.exitCode === 0 ? '' : `command failed with exit code ${r.exitCode}: ${r.output.slice(0, 512)}` };
    }
    if (h.httpGet) {
      const port = resolvePort(h.httpGet.port, target);
      if (port === undefined) return { ok: false, message: `unknown port ${h.httpGet.port}` };
      return await httpGet(h.httpGet, h.httpGet.host || target.host, port, target, timeoutSeconds);
    }
    if (h.tcpSocket) {
      const port = resolvePort(h.tcpSocket.port, target);
      if (port === undefined) return { ok: false, message: `unknown port ${h.tcpSocket.port}` };
      const host = h.tcpSocket.host || target.host;
      const r = await runHost([BUSYBOX, 'nc', '-w', String(Math.max(1, timeoutSeconds)), host, String(port), '-e', '/bin/true'], target.netns, timeoutMs + 1000);
      return { ok: r.code === 0, message: r.code === 0 ? '' : `dial tcp ${host}:${port}: connect: connection refused` };
    }
    return { ok: false, message: 'unsupported probe handler (exec, httpGet and tcpSocket are supported)' };
  } catch (err) {
    return { ok: false, message: (err as Error).message };
  }
}

/**
 * Runs a probe every periodSeconds after initialDelaySeconds and reports transitions:
 * `onChange(true)` after successThreshold successes, `onChange(false, msg)` after
 * failureThreshold failures (each failure also reaches `onFailure`, for Unhealthy events).
 */
export class Prober {
  readonly #p: Required<Pick<ProbeSpec, 'initialDelaySeconds' | 'periodSeconds' | 'timeoutSeconds' | 'successThreshold' | 'failureThreshold'>>;
  readonly #spec: ProbeSpec;
  readonly #target: HandlerTarget;
  readonly #onChange: (ok: boolean, message: string) => void;
  readonly #onFailure: (message: string) => void;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #successes = 0;
  #failures = 0;
  #result: boolean | undefined;

  constructor(spec: ProbeSpec, target: HandlerTarget, onChange: (ok: boolean, message: string) => void, onFailure: (message: string) => void) {
    this.#spec = spec;
    this.#target = target;
    this.#onChange = onChange;
    this.#onFailure = onFailure;
    this.#p = {
      initialDelaySeconds: spec.initialDelaySeconds ?? 0, periodSeconds: spec.periodSeconds ?? 10, timeoutSeconds: spec.timeoutSeconds ?? 1,
      successThreshold: spec.successThreshold ?? 1, failureThreshold: spec.failureThreshold ?? 3,
    };
  }

  start(): void {
    this.#schedule(this.#p.initialDelaySeconds * 1000);
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#tick(), ms);
  }

  async #tick(): Promise<void> {
    const r = await runHandler(this.#spec, this.#target, this.#p.timeoutSeconds);
    if (this.#stopped) return;
    if (r.ok) {
      this.#failures = 0;
      if (++this.#successes >= this.#p.successThreshold && this.#result !== true) {
        this.#result = true;
        this.#onChange(true, '');
      }
    } else {
      this.#successes = 0;
      this.#onFailure(r.message);
      if (++this.#failures >= this.#p.failureThreshold && this.#result !== false) {
        this.#result = false;
        this.#failures = 0;
        this.#onChange(false, r.message);
      }
    }
    this.#schedule(this.#p.periodSeconds * 1000);
  }
}
