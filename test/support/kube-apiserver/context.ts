// The state one server instance shares between its request handlers.
import type { AuthorizeHook, TokenUser } from './auth.ts';
import type { KubeletClientConfig } from './kubelet-proxy.ts';
import type { Registry } from './registry.ts';
import type { Store } from './store.ts';
import type { TokenIssuer } from './tokens.ts';

export interface ServerContext {
  store: Store;
  registry: Registry;
  issuer: TokenIssuer;
  tokens: Record<string, TokenUser>;
  /** Users with every right. */
  admins: ReadonlySet<string>;
  authorizeHook?: AuthorizeHook;
  bookmarkIntervalMs: number;
  /** TokenRequest's lower bound on expirationSeconds (600 like the apiserver; lower only in tests). */
  minTokenExpirationSeconds: number;
  caCert: string;
  /** How the server reaches kubelets for pods/log and nodes/proxy. */
  kubelet: KubeletClientConfig;
  /** "host:port" the server listens on, for discovery documents. */
  address: string;
  /** One closer per open watch; calling it ends that watch cleanly. */
  watchClosers: Set<() => void>;
}
