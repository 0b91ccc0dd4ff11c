/**
 * The node heartbeat: the Lease `kube-node-lease/<node>` (holder = node, 40 s duration,
 * owner reference to the Node so it goes with it), renewed every 10 s by PUT with the last
 * resourceVersion; a conflict or a missing Lease is resolved by reading or creating it.
 */
import type { Logger } from 'pino';
import { isAlreadyExists, isConflict, isNotFound, paths, type Kube, type KubeObject } from './kube-client.ts';

export const LEASE_NAMESPACE = 'kube-node-lease';

export interface LeaseControllerOptions {
  kube: Kube;
  nodeName: string;
  /** The Node's UID (owner reference); undefined until it is registered. */
  nodeUid(): string | undefined;
  durationSeconds?: number;
  renewIntervalMs?: number;
  log: Logger;
}

const microTime = (d: Date) => d.toISOString().replace('Z', '000Z');

export class LeaseController {
  readonly #o: LeaseControllerOptions;
  #lease: KubeObject | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> = Promise.resolve();
  /** Successful renewals since start (for tests and metrics). */
  renewals = 0;

  constructor(options: LeaseControllerOptions) {
    this.#o = options;
  }

  /** Renews once (throws if the API server refuses), then keeps renewing. */
  async start(): Promise<void> {
    await this.#renew();
    this.#schedule();
  }

  stop(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    return this.#running;
  }

  /** Renews now. Never throws: a failed renewal is retried at the next tick. */
  renew(): Promise<void> {
    this.#running = this.#running.then(() => this.#renew()).catch((err) => this.#o.log.warn({ err }, 'lease renewal failed'));
    return this.#running;
  }

  async #renew(retry = true): Promise<void> {
    const { kube, nodeName } = this.#o;
    const path = paths.lease(LEASE_NAMESPACE, nodeName);
    if (!this.#lease) this.#lease = await this.#get(path);
    try {
      this.#lease = this.#lease
        ? await kube.request('PUT', path, { body: this.#desired(this.#lease), budget: 'heartbeat' })
        : await kube.request('POST', paths.leases(LEASE_NAMESPACE), { body: this.#desired(undefined), budget: 'heartbeat' });
    } catch (err) {
      // Someone else wrote it (or it vanished): start from the current object next time.
      this.#lease = undefined;
      if (retry && (isConflict(err) || isNotFound(err) || isAlreadyExists(err))) return this.#renew(false);
      throw err;
    }
    this.renewals++;
  }

  async #get(path: string): Promise<KubeObject | undefined> {
    try {
      return await this.#o.kube.request('GET', path, { budget: 'heartbeat' });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  #desired(current: KubeObject | undefined): KubeObject {
    const { nodeName } = this.#o;
    const uid = this.#o.nodeUid();
    const meta: KubeObject = { ...(current?.metadata ?? {}), name: nodeName, namespace: LEASE_NAMESPACE };
    if (uid && !(meta.ownerReferences ?? []).some((r: KubeObject) => r.uid === uid)) {
      meta.ownerReferences = [{ apiVersion: 'v1', kind: 'Node', name: nodeName, uid }];
    }
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: meta,
      spec: { ...(current?.spec ?? {}), holderIdentity: nodeName, leaseDurationSeconds: this.#o.durationSeconds ?? 40, renewTime: microTime(new Date()) },
    };
  }

  #schedule(): void {
    this.#timer = setTimeout(() => {
      void this.renew().then(() => {
        if (this.#timer) this.#schedule();
      });
    }, this.#o.renewIntervalMs ?? 10_000);
  }
}
