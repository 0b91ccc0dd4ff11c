/**
 * The container's process from PodJob + image config, merged the way the kubelet and
 * containerd do: `command` replaces Entrypoint (and drops Cmd), `args` replaces Cmd, `$(VAR)`
 * in command/args/env expands from the env defined so far (`$$` escapes, unknown references
 * stay), container env overrides image env by name. Env values the provider could not know
 * (`fieldPath: status.podIP`, ...) are filled from the sandbox here.
 */
import { BurstletError } from '../../../src/errors.ts';
import type { ContainerSpec } from '../../../src/schema/pod-job.ts';
import type { SpecOption } from './oci.ts';

/** What the process needs from an image config (structurally the image service's ImageConfig). */
export interface ImageDefaults {
  readonly entrypoint: readonly string[];
  readonly cmd: readonly string[];
  readonly env: readonly string[];
  readonly workingDir: string;
  readonly user: string;
  readonly stopSignal: string;
}

/** Values of env `fieldPath`s only the worker knows. */
export interface PodFieldValues {
  podIP?: string;
  hostIP?: string;
}

/** Kubernetes `$(VAR_NAME)` expansion (k8s third_party/forked/golang/expansion). */
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

/**
 * The container's own env with values resolved, in order. The kubelet expands each value
 * only against the container's earlier vars (never the image's), and so do command/args.
 */
export function containerVars(container: ContainerSpec['env'], fields: PodFieldValues = {}): Map<string, string> {
  const own = new Map<string, string>();
  for (const v of container ?? []) {
    const value = v.fieldPath ? fieldValue(v.fieldPath, fields) : expandVars(v.value ?? '', own);
    own.delete(v.name); // a later duplicate wins and moves last, like the kubelet's list
    own.set(v.name, value);
  }
  return own;
}

/** Image env, then the container's vars overriding by name. */
export function mergeEnv(image: readonly string[], own: ReadonlyMap<string, string>): string[] {
  const out = new Map<string, string>();
  for (const e of image) {
    const eq = e.indexOf('=');
    out.set(eq === -1 ? e : e.slice(0, eq), eq === -1 ? '' : e.slice(eq + 1));
  }
  for (const [name, value] of own) {
    out.delete(name);
    out.set(name, value);
  }
  return [...out].map(([n, v]) => `${n}=${v}`);
}

function fieldValue(path: string, fields: PodFieldValues): string {
  if (path === 'status.podIP' || path === 'status.podIPs') return fields.podIP ?? '';
  return fields.hostIP ?? '';
}

/** argv: command/args over Entrypoint/Cmd; refuses an empty result like containerd does. */
export function mergeArgs(container: ContainerSpec, image: ImageDefaults, vars: ReadonlyMap<string, string>): string[] {
  const expand = (list: readonly string[]) => list.map((s) => expandVars(s, vars));
  const hasCommand = (container.command?.length ?? 0) > 0;
  const hasArgs = (container.args?.length ?? 0) > 0;
  const entrypoint = hasCommand ? expand(container.command!) : [...image.entrypoint];
  const cmd = hasArgs ? expand(container.args!) : hasCommand ? [] : [...image.cmd];
  const args = [...entrypoint, ...cmd];
  if (args.length === 0) {
    throw new BurstletError('CONTAINER_CREATE', `container ${container.name}: no command specified (neither the pod nor the image sets one)`);
  }
  return args;
}

/** Sets args, env and cwd of the process. */
export function withProcess(container: ContainerSpec, image: ImageDefaults, fields: PodFieldValues = {}): SpecOption {
  return (spec) => {
    const own = containerVars(container.env, fields);
    spec.process.env = mergeEnv(image.env, own);
    spec.process.args = mergeArgs(container, image, own);
    spec.process.cwd = container.workingDir || image.workingDir || '/';
  };
}
