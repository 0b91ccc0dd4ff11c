// The parts of an OCI image config a container needs, and the pure function that merges
// them with a Kubernetes container's command/args/env exactly as the kubelet does.
import { BurstletError } from '../../src/errors.ts';

/** The runnable defaults an image carries (OCI image config `config` object). */
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

/** The Kubernetes container fields that override the image (already resolved env values). */
export interface ContainerOverrides {
  readonly command?: readonly string[];
  readonly args?: readonly string[];
  readonly env?: readonly { readonly name: string; readonly value: string }[];
  readonly workingDir?: string;
}

/** What the runtime spec needs: argv, env, cwd, user (the image's; securityContext applies later). */
export interface ContainerProcess {
  readonly args: string[];
  readonly env: string[];
  readonly cwd: string;
  readonly user: string;
}

/**
 * Kubelet semantics: `command` replaces Entrypoint (and drops Cmd), `args` replaces Cmd;
 * `$(VAR)` in command and args expands from the container env (`$$` escapes, unknown
 * references stay as written); container env overrides image env by name.
 */
export function containerProcess(image: ImageConfig, k: ContainerOverrides): ContainerProcess {
  const env = mergeEnv(image.env, k.env ?? []);
  const vars = new Map(env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
  const expand = (list: readonly string[]) => list.map((s) => expandVars(s, vars));
  const hasCommand = (k.command?.length ?? 0) > 0;
  const hasArgs = (k.args?.length ?? 0) > 0;
  const entrypoint = hasCommand ? expand(k.command!) : [...image.entrypoint];
  const cmd = hasArgs ? expand(k.args!) : hasCommand ? [] : [...image.cmd];
  return { args: [...entrypoint, ...cmd], env, cwd: k.workingDir || image.workingDir || '/', user: image.user };
}

function mergeEnv(image: readonly string[], container: readonly { name: string; value: string }[]): string[] {
  const out = new Map<string, string>();
  for (const e of image) {
    const eq = e.indexOf('=');
    out.set(eq === -1 ? e : e.slice(0, eq), eq === -1 ? '' : e.slice(eq + 1));
  }
  for (const { name, value } of container) {
    out.delete(name); // re-insert so the container's order wins, like the kubelet's list
    out.set(name, value);
  }
  return [...out].map(([n, v]) => `${n}=${v}`);
}

/** Kubernetes `$(VAR_NAME)` expansion (k8s.io/kubernetes/third_party/forked/golang/expansion). */
export function expandVars(input: string, vars: ReadonlyMap<string, string>): string {
  let out = '';
  for (let i = 0; i < input.length; i++) {
    if (input[i] !== '$' || i + 1 >= input.length) {
      out += input[i];
      continue;
    }
    const next = input[i + 1];
    if (next === '$') {
      out += '$';
      i++;
    } else if (next === '(') {
      const close = input.indexOf(')', i + 2);
      if (close === -1) {
        out += input.slice(i);
        break;
      }
      const name = input.slice(i + 2, close);
      out += vars.has(name) ? vars.get(name) : `$(${name})`;
      i = close;
    } else {
      out += '$';
    }
  }
  return out;
}
