// Kubeconfig documents for the test server (plain HTTP, bearer token).
import { stringify } from 'yaml';

/** A kubeconfig with one cluster/user/context; `namespace` is the context's default; `caPem` for https servers. */
export function kubeconfigYaml(server: string, token: string, userName = 'burstlet-admin', namespace = 'default', caPem?: string): string {
  // client-node refuses plain http:// unless TLS verification is (vacuously) skipped.
  const cluster = caPem
    ? { server, 'certificate-authority-data': Buffer.from(caPem).toString('base64') }
    : { server, 'insecure-skip-tls-verify': true };
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'burstlet-test', cluster }],
    users: [{ name: userName, user: { token } }],
    contexts: [{ name: 'burstlet-test', context: { cluster: 'burstlet-test', user: userName, namespace } }],
    'current-context': 'burstlet-test',
    preferences: {},
  });
}
