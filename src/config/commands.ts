/**
 * The settings of each `burstlet` subcommand. Defaults are safe: loopback binds, no
 * privileged pods, no hostPath, UI on loopback only.
 */
import { def, opt, type Spec } from './load.ts';
import { bool, cpu, DNS_LABEL, DNS_SUBDOMAIN, duration, hostList, int, labels, listen, memory, mirrors, oneOf, str, url } from './settings.ts';

const common = {
  redis: opt(url(['redis:', 'rediss:']), 'Redis URL shared by provider and workers'),
  keyPrefix: def(str('letters, digits, "_", "." or "-"', /^[A-Za-z0-9_.-]+$/), 'prefix of every Redis key', 'burstlet'),
  logLevel: def(oneOf('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'), 'log level', 'info'),
  logFormat: def(oneOf('auto', 'json', 'pretty'), 'log format (auto = pretty on a TTY, JSON otherwise)', 'auto'),
} satisfies Spec;

const node = {
  nodeName: def(str('a DNS-1123 subdomain (lower-case letters, digits, "-" and ".")', DNS_SUBDOMAIN), 'name of the virtual node', 'burstlet'),
  listen: def(listen(), 'address of the kubelet API (logs, exec, stats)', { host: '127.0.0.1', port: 10250 }),
  taint: def(str('KEY=VALUE:EFFECT with effect NoSchedule, PreferNoSchedule or NoExecute', /^[A-Za-z0-9./_-]+(=[A-Za-z0-9._-]*)?:(NoSchedule|PreferNoSchedule|NoExecute)$/), 'taint of the virtual node', 'virtual-kubelet.io/provider=burstlet:NoSchedule'),
  burstCpu: def(cpu(), 'extra CPU advertised beyond live workers, for pools that scale on demand', 0),
  burstMemory: def(memory(), 'extra memory advertised beyond live workers', 0),
  burstPods: def(int(0, 100000), 'extra pod slots advertised beyond live workers', 0),
} satisfies Spec;

export const providerSpec = {
  ...common,
  ...node,
  kubeconfig: opt(str('a path to a kubeconfig file'), 'kubeconfig (in-cluster config when unset and running in a pod)'),
  qps: def(int(1, 10000), 'Kubernetes client requests per second', 50),
  burst: def(int(1, 10000), 'Kubernetes client burst', 100),
  leaseDuration: def(duration(), 'node Lease duration', 40_000),
  statusInterval: def(duration(), 'node status re-sent at least this often', 300_000),
  nodeAddress: opt(str('an IP address'), 'InternalIP of the node (default: $POD_IP, else the first non-loopback IPv4)'),
  tls: def(bool(), 'serve the kubelet API over TLS (self-signed certificate unless --tls-cert-file)', true),
  tlsCertFile: opt(str('a path to a PEM file'), 'serving certificate of the kubelet API'),
  tlsPrivateKeyFile: opt(str('a path to a PEM file'), 'private key of --tls-cert-file'),
  clientCaFile: opt(str('a path to a PEM file'), 'CA whose client certificates the kubelet API accepts (user = CN, groups = O)'),
  authentication: def(bool(), 'authenticate (TokenReview, client certificates) and authorize (SubjectAccessReview) kubelet API requests; --no-authentication for local tests', true),
  leaderElect: def(bool(), 'run as one of several replicas: only the holder of the Lease burstlet-provider-<node> drives the node', false),
  leaderElectNamespace: def(str('a namespace name', DNS_LABEL), 'namespace of the leader-election Lease', 'burstlet'),
} satisfies Spec;

export const workerSpec = {
  ...common,
  pool: def(str('a DNS-1123 label (lower-case letters, digits and "-", at most 63)', DNS_LABEL), 'pool (queue) this worker serves', 'default'),
  workerId: opt(str(), 'worker id (default: hostname + random suffix)'),
  runtime: def(oneOf('burstlet', 'runc', 'crun'), 'OCI runtime that runs containers', 'burstlet'),
  stateDir: def(str('a directory path'), 'where images, snapshots, logs and volumes live; container state goes on a tmpfs mounted at <dir>/run', '/var/lib/burstlet'),
  cpu: opt(cpu(), 'allocatable CPU (default: detected)'),
  memory: opt(memory(), 'allocatable memory (default: detected)'),
  maxPods: def(int(1, 1000), 'allocatable pods', 110),
  labels: def(labels(), 'worker labels', {}),
  network: def(oneOf('bridge', 'host'), 'pod networking: bridge (CNI, own IP) or host', 'bridge'),
  allowPrivileged: def(bool(), 'allow privileged containers', false),
  allowHostPath: def(bool(), 'allow hostPath volumes', false),
  heartbeatInterval: def(duration(), 'registry heartbeat interval', 5_000),
  shutdown: def(oneOf('finish', 'handback'), 'on SIGTERM: finish running pods or hand them back to the queue', 'handback'),
  registryMirrors: def(mirrors(), 'registry mirrors, tried before the registry itself', {}),
  insecureRegistries: def(hostList(), 'registries reached over plain HTTP (never the default)', []),
} satisfies Spec;

export const standaloneSpec = {
  ...common,
  ...node,
  podManifestPath: def(str('a directory path'), 'folder of pod manifests (YAML/JSON) to run', 'examples/pods'),
  ui: def(listen(), 'address of the UI', { host: '127.0.0.1', port: 8080 }),
  uiToken: opt(str('a secret string'), 'bearer token the UI requires (needed to bind beyond loopback; enables job actions)'),
  uiBasicAuth: opt(str('USER:PASSWORD', /^[^:]+:.+$/), 'basic auth the UI requires (instead of a token)'),
  registry: opt(str('HOST:PORT'), 'registry holding the example images (default: start a local one)'),
  stateDir: def(str('a directory path'), 'where images, snapshots and container state live', '.burstlet'),
  runtime: def(oneOf('burstlet', 'runc', 'crun'), 'OCI runtime that runs containers', 'burstlet'),
  network: def(oneOf('bridge', 'host'), 'pod networking: bridge (CNI, own IP, hostPorts) or host', 'bridge'),
} satisfies Spec;
