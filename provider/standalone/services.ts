/**
 * The local services standalone mode starts when none is given: a private redis-server, an
 * OCI registry (Debian docker-registry, from test support) loaded with the example image,
 * and the embedded in-memory Kubernetes API server (the one the tests use). Each returns a
 * stop function; nothing here listens beyond loopback.
 */
import { startKubeApiServer, type KubeApiServer } from '../../test/support/kube-apiserver/index.ts';
import { buildTestImage } from '../../test/support/images.ts';
import { registryClient } from '../../test/support/oci-client.ts';
import { pushImage } from '../../test/support/oci-push.ts';
import { startRedis, type RedisServer } from '../../test/support/redis.ts';
import { startRegistry, type Registry } from '../../test/support/registry.ts';

export type { KubeApiServer, RedisServer, Registry };

export const startPrivateRedis = (): Promise<RedisServer> => startRedis({ appendonly: false });

/**
 * A local registry holding busybox (built from Debian busybox-static) as
 * `library/busybox:latest`, so it serves as a docker.io mirror for the examples' `busybox`.
 */
export async function startExampleRegistry(): Promise<Registry> {
  const reg = await startRegistry();
  try {
    const image = await buildTestImage('busybox');
    await pushImage(registryClient(reg), 'library/busybox', 'latest', image);
  } catch (err) {
    await reg.stop();
    throw err;
  }
  return reg;
}

/** HTTPS (self-signed, in its kubeconfig): kubectl sends bearer tokens only over TLS. */
export const startEmbeddedApiServer = (): Promise<KubeApiServer> => startKubeApiServer({ bookmarkIntervalMs: 30_000, tls: true });
