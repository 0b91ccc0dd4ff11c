// `burstlet provider`: the virtual kubelet (provider/provider.ts) plus its kubelet API.
import { readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { hostname, networkInterfaces } from 'node:os';
import { buildKubeletApi } from '../../provider/api/index.ts';
import { apiServerAuthorizer } from '../../provider/kubelet-auth.ts';
import { LeaderElector } from '../../provider/leader-election.ts';
import { KubeClient } from '../../provider/kube-client.ts';
import { createProviderMetrics } from '../../provider/metrics.ts';
import { startProvider } from '../../provider/provider.ts';
import { loadOrCreateServingCert } from '../../provider/serving-cert.ts';
import { providerSpec } from '../config/commands.ts';
import type { Values } from '../config/load.ts';
import { createLogger } from '../log.ts';
import type { Command } from './commands.ts';
// main.ts imports this file too; version() is a hoisted function, so the cycle is harmless.
import { version } from './main.ts';

type ProviderValues = Values<typeof providerSpec>;

export const provider: Command = {
  summary: 'run the virtual kubelet: register the node, turn its pods into queue jobs, serve the kubelet API',
  spec: providerSpec,
  async run(raw) {
    const v = raw as ProviderValues;
    const log = createLogger({ level: v.logLevel, format: v.logFormat, name: 'burstlet-provider' });
    if (!v.redis) {
      process.stderr.write('burstlet provider: --redis URL is required\n');
      return 2;
    }
    // From the start: a signal while waiting for leadership or while starting is honoured too.
    const stopSignal = new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGTERM', () => resolve('SIGTERM'));
      process.once('SIGINT', () => resolve('SIGINT'));
    });
    const kube = new KubeClient({ kubeconfig: v.kubeconfig, qps: v.qps, burst: v.burst });
    const address = v.nodeAddress ?? process.env.POD_IP ?? firstIPv4() ?? '127.0.0.1';
    const metrics = createProviderMetrics();
    const elector = v.leaderElect
      ? new LeaderElector({ kube, namespace: v.leaderElectNamespace, name: `burstlet-provider-${v.nodeName}`, identity: `${hostname()}-${randomBytes(4).toString('hex')}`, log })
      : undefined;
    let lost: () => void = () => {};
    const leadershipLost = new Promise<'lost'>((resolve) => (lost = () => resolve('lost')));
    if (elector) {
      const first = await Promise.race([elector.acquire().then(() => 'leader' as const), stopSignal]);
      if (first !== 'leader') {
        await elector.release();
        kube.close();
        return 0;
      }
      elector.keepRenewing(lost);
    }
    const p = await startProvider({
      kube, redisUrl: v.redis, keyPrefix: v.keyPrefix, log, metrics,
      leaseDurationSeconds: Math.round(v.leaseDuration / 1000), statusIntervalMs: v.statusInterval,
      node: {
        nodeName: v.nodeName, taint: v.taint, version: version(), address, port: v.listen.port,
        burst: { cpuMillis: v.burstCpu, memoryBytes: v.burstMemory, pods: v.burstPods },
      },
    });
    const tls = v.tls ? await loadOrCreateServingCert(v.tlsCertFile, v.tlsPrivateKeyFile, [v.nodeName, address, 'localhost', '127.0.0.1']) : undefined;
    const clientCa = v.clientCaFile ? await readFile(v.clientCaFile) : undefined;
    const api = buildKubeletApi({
      nodeName: v.nodeName, pods: p.pods, redis: p.redis, keys: p.keys, log, metrics,
      authorize: v.authentication ? apiServerAuthorizer(kube) : undefined,
      tls: tls ? { ...tls, clientCa } : undefined,
    });
    await api.listen({ host: v.listen.host, port: v.listen.port });
    log.info({ listen: `${v.listen.host}:${v.listen.port}`, tls: !!tls, authentication: v.authentication }, 'kubelet API listening');
    const signal = await Promise.race([leadershipLost, stopSignal]);
    log.info({ signal }, 'shutting down');
    await api.close();
    await p.stop();
    // After the node is left consistent: a standby may take over at once.
    await elector?.release();
    return signal === 'lost' ? 1 : 0;
  },
};

function firstIPv4(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}
