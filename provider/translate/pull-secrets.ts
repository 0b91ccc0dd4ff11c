/**
 * imagePullSecrets → registry credentials, from `kubernetes.io/dockerconfigjson` (`auths`
 * map) and legacy `kubernetes.io/dockercfg` secrets. Like the kubelet, a missing pull
 * secret is not fatal: the pull is attempted without it (and fails with ErrImagePull if
 * the registry wants credentials).
 */
import type { RegistryCredential } from '../../src/schema/pod-job.ts';
import type { KubeObject } from '../kube-client.ts';
import type { Sources } from './sources.ts';

/** Credentials of every pull secret of the pod that exists, in order. */
export async function pullCredentials(pod: KubeObject, sources: Sources): Promise<RegistryCredential[]> {
  const out: RegistryCredential[] = [];
  for (const ref of pod.spec?.imagePullSecrets ?? []) {
    if (!ref?.name) continue;
    const secret = await sources.secret(pod.metadata.namespace, ref.name);
    if (secret) out.push(...credentialsOf(secret));
  }
  return out;
}

/** Parses one docker config secret; entries that do not parse are skipped. */
export function credentialsOf(secret: KubeObject): RegistryCredential[] {
  const data = secret.data ?? {};
  const decode = (k: string): Record<string, any> | undefined => {
    if (typeof data[k] !== 'string') return undefined;
    try {
      return JSON.parse(Buffer.from(data[k], 'base64').toString('utf8'));
    } catch {
      return undefined;
    }
  };
  const auths = decode('.dockerconfigjson')?.auths ?? decode('.dockercfg') ?? {};
  const out: RegistryCredential[] = [];
  for (const [registry, entry] of Object.entries(auths)) {
    if (!entry || typeof entry !== 'object') continue;
    const e = entry as Record<string, string>;
    let { username, password } = e;
    if ((!username || !password) && e.auth) {
      const plain = Buffer.from(e.auth, 'base64').toString('utf8');
      const i = plain.indexOf(':');
      if (i > 0) [username, password] = [plain.slice(0, i), plain.slice(i + 1)];
    }
    out.push({ registry: normaliseRegistry(registry), username: username || undefined, password: password || undefined, identityToken: e.identitytoken || undefined });
  }
  return out;
}

// Docker config keys may be URLs ("https://index.docker.io/v1/"); workers match on host[:port].
function normaliseRegistry(key: string): string {
  const host = key.replace(/^https?:\/\//, '').split('/')[0]!;
  return host === 'index.docker.io' ? 'docker.io' : host;
}
