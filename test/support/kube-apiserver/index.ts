// startKubeApiServer: the project's own Kubernetes API server for tests — the subset of the
// API burstlet uses, behaving like kube-apiserver (see FIDELITY.md for where it may not).
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuthorizeHook, TokenUser } from './auth.ts';
import type { ServerContext } from './context.ts';
import { kubeconfigYaml } from './kubeconfig.ts';
import { seedCluster } from './namespaces.ts';
import { Registry } from './registry.ts';
import { handleRequest } from './router.ts';
import { Store } from './store.ts';
import { TokenIssuer } from './tokens.ts';
import { selfSignedCert } from './tls.ts';
import { DEFAULT_ADDRESS_TYPES } from './kubelet-proxy.ts';

export type { Attributes, AuthorizeHook, TokenUser, UserInfo } from './auth.ts';
export type { KubeObject } from './objects.ts';
export { Store } from './store.ts';
export { Registry } from './registry.ts';

/** The identity of the default (admin) token: a service account with every right. */
export const ADMIN_USER: TokenUser = {
  user: 'system:serviceaccount:kube-system:burstlet',
  groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system'],
};

/** The identity of the default credentials the server presents to kubelets. */
export const KUBELET_CLIENT_USER: TokenUser = { user: 'kube-apiserver-kubelet-client', groups: ['system:masters'] };

export interface KubeApiServerOptions {
  /** Extra bearer tokens → identities (e.g. { tok: { user: 'system:node:n1', groups: ['system:nodes'] } }). */
  tokens?: Record<string, TokenUser>;
  /** Value of the default admin token (random when omitted). */
  adminToken?: string;
  /** Usernames with every right besides the admin token's (group system:masters also has them). */
  admins?: string[];
  /** Custom authorization decision tried first (true/false decides, undefined defers). */
  authorize?: AuthorizeHook;
  /** Changes kept for watches from an older resourceVersion (default 10 000, all resources together). */
  historySize?: number;
  /** Period of watch BOOKMARK events (default 60 000 ms, like the apiserver's ~1 min). */
  bookmarkIntervalMs?: number;
  /**
   * TEST-ONLY, not an apiserver behaviour: the smallest TokenRequest expirationSeconds accepted
   * (default 600, the real apiserver's fixed minimum). Lower it to see token refreshes within
   * a test's time (FIDELITY.md).
   */
  minTokenExpirationSeconds?: number;
  /** Service-account token issuer and the audiences the server accepts. */
  issuer?: string;
  apiAudiences?: string[];
  /**
   * Credentials the server presents to kubelets for pods/log and nodes/proxy. Default: a bearer
   * token of user `kube-apiserver-kubelet-client` (group system:masters) that this server's
   * TokenReview accepts; addressTypes default to kubeadm's InternalIP, ExternalIP, Hostname.
   */
  kubeletClient?: { token?: string; cert?: string; key?: string; addressTypes?: string[] };
  /**
   * Serve HTTPS with a fresh self-signed certificate (made with openssl) instead of plain HTTP.
   * Needed for kubectl, which does not send bearer tokens over plain HTTP.
   */
  tls?: boolean;
}

/** A running test API server. stop() is idempotent and ends every watch. */
export interface KubeApiServer {
  /** http://127.0.0.1:PORT (https:// with `tls`) */
  url: string;
  /** The bearer token the server sends to kubelets (pods/log, nodes/proxy), if any. */
  kubeletClientToken?: string;
  /** PEM of the serving certificate (its own CA) when `tls` is on. */
  caCert?: string;
  port: number;
  /** The admin token of `kubeconfig`. */
  token: string;
  /** YAML kubeconfig for the admin identity, also written to kubeconfigPath. */
  kubeconfig: string;
  kubeconfigPath: string;
  /** A kubeconfig (YAML) for another bearer token, e.g. a node identity from `tokens`. */
  kubeconfigFor(token: string, userName?: string): string;
  /** Registers (or replaces) a static bearer token while running. */
  addToken(token: string, user: TokenUser): void;
  /** Direct access for tests: objects in storage form, watch history, compact(). */
  store: Store;
  registry: Registry;
  issuer: TokenIssuer;
  /** Forgets the watch history, so watches/continues from any earlier resourceVersion get 410 Gone. */
  compact(): void;
  /** Ends every open watch cleanly (as an apiserver restart or watch timeout would): clients re-watch. */
  closeWatches(): void;
  stop(): Promise<void>;
}

const PLACEHOLDER_CA = '-----BEGIN CERTIFICATE-----\nYnVyc3RsZXQgdGVzdCBBUEkgc2VydmVyIGhhcyBubyBUTFM=\n-----END CERTIFICATE-----\n';

/**
 * Starts a server on 127.0.0.1 (free port) with the built-in namespaces seeded. Typical use:
 *
 *   const api = await startKubeApiServer({ tokens: { [nodeToken]: { user: 'system:node:vk', groups: ['system:nodes'] } } });
 *   t.after(() => api.stop());
 *   const kc = new KubeConfig(); kc.loadFromString(api.kubeconfigFor(nodeToken));   // or api.kubeconfig (admin)
 *
 * Use `tls: true` when kubectl is involved, `bookmarkIntervalMs` small when a test waits for
 * bookmarks, `compact()` + `closeWatches()` to make informers relist after 410 Gone.
 */
export async function startKubeApiServer(opts: KubeApiServerOptions = {}): Promise<KubeApiServer> {
  const adminToken = opts.adminToken ?? randomBytes(24).toString('hex');
  const store = new Store({ historySize: opts.historySize });
  const issuer = new TokenIssuer(opts.issuer, opts.apiAudiences);
  const dir = await mkdtemp(join(tmpdir(), 'burstlet-kube-apiserver-'));
  const serving = opts.tls ? await selfSignedCert(dir) : undefined;
  const caCert = serving?.cert ?? PLACEHOLDER_CA;
  const kc = opts.kubeletClient ?? {};
  const kubeletToken = kc.token ?? (kc.cert ? undefined : randomBytes(24).toString('hex'));
  const ctx: ServerContext = {
    kubelet: { token: kubeletToken, cert: kc.cert, key: kc.key, addressTypes: kc.addressTypes ?? DEFAULT_ADDRESS_TYPES },
    store, registry: new Registry(store), issuer, caCert, watchClosers: new Set(), address: '',
    tokens: { ...(opts.tokens ?? {}), [adminToken]: ADMIN_USER, ...(kubeletToken && !kc.token ? { [kubeletToken]: KUBELET_CLIENT_USER } : {}) },
    admins: new Set([ADMIN_USER.user, ...(opts.admins ?? [])]),
    authorizeHook: opts.authorize, bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 60_000,
    minTokenExpirationSeconds: opts.minTokenExpirationSeconds ?? 600,
  };
  seedCluster(store, caCert, { namespace: 'kube-system', name: 'burstlet' });
  const handler = (req: Parameters<typeof handleRequest>[1], res: Parameters<typeof handleRequest>[2]) => void handleRequest(ctx, req, res);
  const server = serving ? createTlsServer({ cert: serving.cert, key: serving.key, keepAlive: true }, handler) : createServer({ keepAlive: true }, handler);
  const port = await listen(server);
  ctx.address = `127.0.0.1:${port}`;
  const url = `${serving ? 'https' : 'http'}://127.0.0.1:${port}`;
  const kubeconfig = kubeconfigYaml(url, adminToken, undefined, undefined, serving?.cert);
  const kubeconfigPath = join(dir, 'kubeconfig');
  await writeFile(kubeconfigPath, kubeconfig, { mode: 0o600 });
  let stopped: Promise<void> | undefined;
  return {
    url, port, caCert: serving?.cert, kubeletClientToken: kubeletToken, token: adminToken, kubeconfig, kubeconfigPath, store, registry: ctx.registry, issuer,
    kubeconfigFor: (token, userName = 'user') => kubeconfigYaml(url, token, userName, undefined, serving?.cert),
    addToken: (token, user) => {
      ctx.tokens[token] = user;
    },
    compact: () => store.compact(),
    closeWatches: () => {
      for (const close of [...ctx.watchClosers]) close();
    },
    stop() {
      stopped ??= (async () => {
        for (const close of [...ctx.watchClosers]) close();
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await rm(dir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    // Port 0: the kernel picks a free port atomically, so parallel tests never collide.
    // A deep backlog: clients that open one connection per request (client-node does) burst connects.
    server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    });
  });
}
