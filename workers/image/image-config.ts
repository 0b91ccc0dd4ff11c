// The parts of an OCI image config a container needs, parsed from the config blob.
import { BurstletError } from '../../src/errors.ts';

/**
 * The runnable defaults an image carries (OCI image config `config` object). Merging them with
 * a container's command/args/env the kubelet way is the runtime's job (workers/runtime/spec/process.ts).
 */
export interface ImageConfig {
  readonly entrypoint: readonly string[];
  readonly cmd: readonly string[];
  /** `NAME=value` strings, in image order. */
  readonly env: readonly string[];
  readonly workingDir: string;
  readonly user: string;
  readonly stopSignal: string;
  readonly exposedPorts: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
  readonly os: string;
  readonly architecture: string;
  /** rootfs.diff_ids: uncompressed layer digests, bottom first. */
  readonly diffIds: readonly string[];
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : []);

/** Parses the config blob; throws IMAGE_PULL_FAILED naming the image when it is unusable. */
export function parseImageConfig(image: string, bytes: Buffer): ImageConfig {
  let doc: {
    os?: string; architecture?: string; rootfs?: { type?: string; diff_ids?: unknown };
    config?: { Entrypoint?: unknown; Cmd?: unknown; Env?: unknown; WorkingDir?: string; User?: string; StopSignal?: string; ExposedPorts?: Record<string, unknown>; Labels?: Record<string, string> };
  };
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new BurstletError('IMAGE_PULL_FAILED', `image ${image}: config is not JSON: ${(err as Error).message}`, { details: { image } });
  }
  const diffIds = strings(doc.rootfs?.diff_ids);
  if (doc.rootfs?.type !== 'layers' || diffIds.some((d) => !/^sha256:[a-f0-9]{64}$/.test(d))) {
    throw new BurstletError('IMAGE_PULL_FAILED', `image ${image}: config has no valid rootfs.diff_ids`, { details: { image } });
  }
  const c = doc.config ?? {};
  return {
    entrypoint: strings(c.Entrypoint),
    cmd: strings(c.Cmd),
    env: strings(c.Env),
    workingDir: typeof c.WorkingDir === 'string' ? c.WorkingDir : '',
    user: typeof c.User === 'string' ? c.User : '',
    stopSignal: typeof c.StopSignal === 'string' ? c.StopSignal : '',
    exposedPorts: Object.keys(c.ExposedPorts ?? {}),
    labels: { ...(c.Labels ?? {}) },
    os: doc.os ?? '',
    architecture: doc.architecture ?? '',
    diffIds,
  };
}
