/**
 * Keeps the virtual Node registered and its status true, like the kubelet's node status
 * manager: creates the Node (or adds our labels/taint to an existing one), then PATCHes
 * `nodes/status` (strategic merge: conditions merge by type, so conditions others wrote
 * survive) whenever the live pool changes, and at least every `statusIntervalMs`. Only
 * PATCH is used on the status subresource: node credentials may not GET it.
 */
import type { Logger } from 'pino';
import type { WorkerInfo } from '../src/schema/worker.ts';
import { isNotFound, KubeApiError, paths, type Kube, type KubeObject } from './kube-client.ts';
import { nodeLabels, nodeObject, nodeStatus, parseTaint, statusFingerprint, type NodeSettings } from './node-status.ts';

const ROLE_LABEL = 'kubernetes.io/role';

export interface NodeControllerOptions {
  kube: Kube;
  settings: NodeSettings;
  /** The live workers now (read from Redis). */
  workers(): Promise<WorkerInfo[]>;
  /** How often the pool is looked at (default 5 s). */
  checkIntervalMs?: number;
  /** Status re-sent at least this often even when unchanged (default 5 min). */
  statusIntervalMs?: number;
  log: Logger;
}

export class NodeController {
  readonly #o: NodeControllerOptions;
  #uid: string | undefined;
  #conditions: KubeObject[] = [];
  #sent = '';
  #sentAt = 0;
  #timer: NodeJS.Timeout | undefined;
  #roleRefused = false;
  #running: Promise<void> = Promise.resolve();

  constructor(options: NodeControllerOptions) {
    this.#o = options;
  }

  /** The Node's UID once registered (the Lease's owner reference needs it). */
  get uid(): string | undefined {
    return this.#uid;
  }

  /** Registers the node and sends its status; throws if the API server refuses. */
  async start(): Promise<void> {
    await this.#register();
    await this.sync(true);
    this.#schedule();
  }

  stop(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    return this.#running;
  }

  /** Looks at the pool and PATCHes the status if it changed (or `force`). Never throws. */
  sync(force = false): Promise<void> {
    this.#running = this.#running.then(() => this.#sync(force)).catch((err) => this.#o.log.warn({ err }, 'node status update failed'));
    return this.#running;
  }

  async #sync(force: boolean): Promise<void> {
    const { kube, settings } = this.#o;
    const status = nodeStatus(settings, await this.#o.workers(), this.#conditions, new Date());
    const fp = statusFingerprint(status);
    const due = Date.now() - this.#sentAt >= (this.#o.statusIntervalMs ?? 300_000);
    if (!force && !due && fp === this.#sent) return;
    try {
      await kube.request('PATCH', `${paths.node(settings.nodeName)}/status`, { body: { status }, patch: 'strategic', budget: 'heartbeat' });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      this.#o.log.warn({ node: settings.nodeName }, 'node was deleted; registering it again');
      await this.#register();
      await kube.request('PATCH', `${paths.node(settings.nodeName)}/status`, { body: { status }, patch: 'strategic', budget: 'heartbeat' });
    }
    if (fp !== this.#sent) this.#o.log.info({ conditions: status.conditions.map((c: KubeObject) => `${c.type}=${c.status}`), capacity: status.capacity }, 'node status updated');
    this.#conditions = status.conditions;
    this.#sent = fp;
    this.#sentAt = Date.now();
  }

  async #register(): Promise<void> {
    const { kube, settings } = this.#o;
    let node: KubeObject;
    try {
      node = await kube.request('GET', paths.node(settings.nodeName));
    } catch (err) {
      if (!isNotFound(err)) throw err;
      node = await this.#create();
      this.#o.log.info({ node: settings.nodeName }, 'node registered');
    }
    this.#uid = node.metadata.uid;
    await this.#adopt(node);
  }

  // Under node credentials NodeRestriction refuses kubernetes.io/role: register without it.
  async #create(): Promise<KubeObject> {
    const { kube, settings } = this.#o;
    const body = nodeObject(settings, await this.#o.workers(), new Date());
    try {
      return await kube.request('POST', paths.nodes(), { body });
    } catch (err) {
      if (!(err instanceof KubeApiError && err.status === 403 && /label/.test(err.message))) throw err;
      this.#o.log.warn({ err: err.message }, `registering without the ${ROLE_LABEL} label`);
      delete body.metadata.labels[ROLE_LABEL];
      return kube.request('POST', paths.nodes(), { body });
    }
  }

  // An existing Node (from an earlier run) gets our labels and taint back if they are missing.
  async #adopt(node: KubeObject): Promise<void> {
    const { kube, settings } = this.#o;
    const want = nodeLabels(settings);
    const labels = node.metadata.labels ?? {};
    const missingLabels = Object.fromEntries(Object.entries(want).filter(([k, v]) => labels[k] !== v && !(k === ROLE_LABEL && this.#roleRefused)));
    const taint = parseTaint(settings.taint);
    const taints: KubeObject[] = node.spec?.taints ?? [];
    const hasTaint = taints.some((t) => t.key === taint.key && t.effect === taint.effect && (t.value ?? '') === (taint.value ?? ''));
    if (!Object.keys(missingLabels).length && hasTaint) return;
    const body: KubeObject = { metadata: { resourceVersion: node.metadata.resourceVersion } };
    if (Object.keys(missingLabels).length) body.metadata.labels = missingLabels;
    // spec.taints is replaced as a whole by a merge patch: send the full list, guarded by resourceVersion.
    if (!hasTaint) body.spec = { taints: [...taints, taint] };
    try {
      await kube.request('PATCH', paths.node(settings.nodeName), { body, patch: 'merge' });
    } catch (err) {
      this.#roleRefused = true;
      this.#o.log.warn({ err }, 'could not restore the node labels/taint (kept as they are)');
    }
  }

  #schedule(): void {
    this.#timer = setTimeout(() => {
      void this.sync().then(() => {
        if (this.#timer) this.#schedule();
      });
    }, this.#o.checkIntervalMs ?? 5_000);
  }
}
