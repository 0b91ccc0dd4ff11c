/**
 * Leader election over a Lease (client-go's leaderelection, LeaseLock): of several provider
 * replicas for one node only the holder runs; the others wait to take over when the holder
 * stops renewing. Writes are guarded by resourceVersion, so two candidates never both win.
 */
import type { Logger } from 'pino';
import { isAlreadyExists, isConflict, isNotFound, paths, type Kube, type KubeObject } from './kube-client.ts';

export interface LeaderElectionOptions {
  kube: Kube;
  namespace: string;
  name: string;
  /** This candidate's identity (pod name + random suffix). */
  identity: string;
  leaseDurationSeconds?: number;
  /** How often candidates retry and the leader renews (default 2 s). */
  retryPeriodMs?: number;
  log: Logger;
  now?: () => number;
}

const microTime = (ms: number) => new Date(ms).toISOString().replace('Z', '000Z');

export class LeaderElector {
  readonly #o: LeaderElectionOptions;
  #timer: NodeJS.Timeout | undefined;
  #lastRenew = 0;
  #stopped = false;

  constructor(options: LeaderElectionOptions) {
    this.#o = options;
  }

  get #duration(): number {
    return this.#o.leaseDurationSeconds ?? 15;
  }

  #now(): number {
    return (this.#o.now ?? Date.now)();
  }

  /** Resolves once this candidate holds the lease (waits while another holder renews it). */
  async acquire(): Promise<void> {
    const retry = this.#o.retryPeriodMs ?? 2000;
    while (!this.#stopped && !(await this.tryAcquireOrRenew())) await new Promise((r) => setTimeout(r, retry));
    if (this.#stopped) throw new Error('leader election stopped');
    this.#o.log.info({ identity: this.#o.identity, lease: `${this.#o.namespace}/${this.#o.name}` }, 'became leader');
  }

  /** Keeps renewing; calls `onLost` once if the lease could not be renewed within its duration. */
  keepRenewing(onLost: () => void): void {
    const tick = async () => {
      if (this.#stopped) return;
      const ok = await this.tryAcquireOrRenew().catch(() => false);
      if (!ok && this.#now() - this.#lastRenew > this.#duration * 1000) {
        this.#o.log.error({ identity: this.#o.identity }, 'leadership lost');
        return onLost();
      }
      if (!this.#stopped) this.#timer = setTimeout(() => void tick(), this.#o.retryPeriodMs ?? 2000);
    };
    this.#timer = setTimeout(() => void tick(), this.#o.retryPeriodMs ?? 2000);
  }

  /** Stops renewing and gives the lease up at once so a standby takes over without waiting. */
  async release(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    const lease = await this.#get();
    if (lease?.spec?.holderIdentity !== this.#o.identity) return;
    lease.spec = { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1 };
    await this.#o.kube.request('PUT', paths.lease(this.#o.namespace, this.#o.name), { body: lease }).catch(() => undefined);
  }

  /** One attempt: true when this candidate holds the lease afterwards. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const { kube, namespace, name, identity } = this.#o;
    const now = this.#now();
    const lease = await this.#get();
    const spec: KubeObject = lease?.spec ?? {};
    const held = spec.holderIdentity && spec.holderIdentity !== identity;
    const expires = Date.parse(spec.renewTime ?? '') + (spec.leaseDurationSeconds ?? this.#duration) * 1000;
    if (held && Number.isFinite(expires) && expires > now) return false;
    const taking = spec.holderIdentity !== identity;
    const next = {
      holderIdentity: identity,
      leaseDurationSeconds: this.#duration,
      renewTime: microTime(now),
      acquireTime: taking ? microTime(now) : spec.acquireTime,
      leaseTransitions: (spec.leaseTransitions ?? 0) + (taking && lease ? 1 : 0),
    };
    try {
      if (lease) await kube.request('PUT', paths.lease(namespace, name), { body: { ...lease, spec: next }, budget: 'heartbeat' });
      else await kube.request('POST', paths.leases(namespace), { body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec: next }, budget: 'heartbeat' });
    } catch (err) {
      if (isConflict(err) || isAlreadyExists(err)) return false;
      throw err;
    }
    this.#lastRenew = now;
    return true;
  }

  async #get(): Promise<KubeObject | undefined> {
    try {
      return await this.#o.kube.request('GET', paths.lease(this.#o.namespace, this.#o.name), { budget: 'heartbeat' });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }
}
