// Image references the way Docker and the kubelet read them: `busybox` is
// `docker.io/library/busybox:latest`, `host:port/ns/name:tag`, `name@sha256:<hex>`.
import { BurstletError } from './errors.ts';

/** A parsed, normalised image reference. Immutable plain data. */
export interface ImageReference {
  /** Registry host as written (`docker.io`, `127.0.0.1:5000`, `localhost`). */
  readonly registry: string;
  /** Repository path inside the registry (`library/busybox`). */
  readonly repository: string;
  /** Tag; `latest` when neither tag nor digest was given, undefined for digest-only refs. */
  readonly tag?: string;
  /** `algorithm:hex` content digest when pinned. */
  readonly digest?: string;
}

export const DOCKER_HUB = 'docker.io';

const component = '[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*';
const repositoryRe = new RegExp(`^${component}(?:/${component})*$`);
const domainRe = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?$/;
const tagRe = /^[\w][\w.-]{0,127}$/;
const digestRe = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

/** Parses a reference; throws IMAGE_REFERENCE_INVALID (kubelet: InvalidImageName) when malformed. */
export function parseReference(input: string): ImageReference {
  const invalid = (why: string) =>
    new BurstletError('IMAGE_REFERENCE_INVALID', `invalid image reference "${input}": ${why}`, { details: { image: input } });
  if (typeof input !== 'string' || input.length === 0) throw invalid('empty');
  if (input.length > 4096 || /\s/.test(input)) throw invalid('contains whitespace or is too long');
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!digestRe.test(digest)) throw invalid(`bad digest "${digest}"`);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!tagRe.test(tag)) throw invalid(`bad tag "${tag}"`);
  }
  let registry = DOCKER_HUB;
  let repository = rest;
  const slash = rest.indexOf('/');
  const first = slash >= 0 ? rest.slice(0, slash) : '';
  if (slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase())) {
    registry = first;
    repository = rest.slice(slash + 1);
    if (!domainRe.test(registry)) throw invalid(`bad registry host "${registry}"`);
  }
  if (registry === 'index.docker.io') registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && !repository.includes('/')) repository = `library/${repository}`;
  if (!repositoryRe.test(repository)) throw invalid(`bad repository name "${repository}" (lowercase letters, digits, separators)`);
  if (repository.length > 255) throw invalid('repository name longer than 255 characters');
  if (tag === undefined && digest === undefined) tag = 'latest';
  return { registry, repository, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}

/** Canonical text form: `registry/repository[:tag][@digest]`. */
export function formatReference(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}

/** The name without tag or digest (`docker.io/library/busybox`), used for repo-scoped auth. */
export function repositoryName(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}`;
}

/** Host to talk the distribution API to (Docker Hub's API is not on docker.io itself). */
export function apiHost(registry: string): string {
  return registry === DOCKER_HUB ? 'registry-1.docker.io' : registry;
}

/** True for loopback hosts (127.0.0.0/8, ::1, localhost), with or without a port. */
export function isLoopbackHost(registry: string): boolean {
  const host = registry.startsWith('[') ? registry.slice(1, registry.indexOf(']')) : registry.replace(/:\d+$/, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
