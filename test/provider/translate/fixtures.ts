// In-memory Sources for translation tests (plain objects, as the API server would return them).
import type { KubeObject } from '../../../provider/kube-client.ts';
import type { Sources } from '../../../provider/translate/sources.ts';

export interface FakeCluster {
  configMaps?: Record<string, KubeObject>;
  secrets?: Record<string, KubeObject>;
  runtimeClasses?: Record<string, KubeObject>;
}

/** Sources over fixed objects keyed "ns/name"; tokens are "token-for-<uid>-<audience>". */
export function sourcesOf(c: FakeCluster): Sources & { tokenCalls: number } {
  const s = {
    tokenCalls: 0,
    configMap: async (ns: string, name: string) => c.configMaps?.[`${ns}/${name}`],
    secret: async (ns: string, name: string) => c.secrets?.[`${ns}/${name}`],
    runtimeClass: async (name: string) => c.runtimeClasses?.[name],
    serviceAccountToken: async (pod: KubeObject, audience: string | undefined, seconds: number) => {
      s.tokenCalls++;
      return { token: `token-for-${pod.metadata.uid}-${audience ?? ''}`, expiresAt: seconds * 1000 };
    },
  };
  return s;
}

export function pod(spec: KubeObject, meta: KubeObject = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p1', namespace: 'ns1', uid: 'uid-1', labels: { app: 'a' }, ...meta },
    spec: { nodeName: 'vk', containers: [{ name: 'c', image: 'busybox' }], ...spec },
  };
}

export const b64 = (s: string) => Buffer.from(s).toString('base64');
