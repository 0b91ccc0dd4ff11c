// Kubeconfig documents for the test server (plain HTTP, bearer token).
import { stringify } from 'yaml';

/** A kubeconfig with one cluster/user/context; `namespace` is the context's default. */
export function kubeconfigYaml(server: string, token: string, userName = 'burstlet-admin', namespace = 'default'): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    // client-node refuses plain http:// unless TLS verification is (vacuously) skipped.
    clusters: [{ name: 'burstlet-test', cluster: { server, 'insecure-skip-tls-verify': true } }],
    users: [{ name: userName, user: { token } }],
    contexts: [{ name: 'burstlet-test', context: { cluster: 'burstlet-test', user: userName, namespace } }],
    'current-context': 'burstlet-test',
    preferences: {},
  });
}
