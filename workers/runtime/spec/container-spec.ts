/**
 * The whole OCI spec of one container: the `with…` options of this folder applied in the
 * order the kubelet + containerd apply them. Pure apart from reading the rootfs's
 * /etc/passwd and /etc/group; throws BurstletError for anything the user got wrong.
 */
import type { ContainerSpec, PodJob } from '../../../src/schema/pod-job.ts';
import { buildSpec, type OciMount, type OciSpec } from './oci.ts';
import { withProcess, type ImageDefaults, type PodFieldValues } from './process.ts';
import { withResources } from './resources.ts';
import { effectiveSecurityContext, withCapabilities, withNoNewPrivileges, withPrivileged, withReadonlyRootfs, withUser } from './security.ts';
import { withAnnotations, withCgroupsPath, withHostname, withMounts, withNamespaces, withRootPath, type SandboxNamespaces } from './linux.ts';

/** Everything besides the PodJob that shapes a container's spec. */
export interface ContainerSpecInput {
  job: PodJob;
  container: ContainerSpec;
  image: ImageDefaults;
  /** The mounted rootfs (absolute), used as root.path and for user lookups. */
  rootfs: string;
  /** The image's id: a fresh rootfs holds its /etc/passwd and /etc/group, read once per image. */
  imageId?: string;
  namespaces: SandboxNamespaces;
  /** Volume mounts and the pod's /etc files, already resolved to host paths. */
  mounts: readonly OciMount[];
  cgroupsPath: string;
  fields?: PodFieldValues;
  /** Worker policy: may privileged containers run here? */
  allowPrivileged: boolean;
}

/** `name_namespace(uid)`, how the kubelet names a pod in its messages. */
export const podLabel = (job: Pick<PodJob, 'name' | 'namespace' | 'uid'>) => `${job.name}_${job.namespace}(${job.uid})`;

export function containerSpec(input: ContainerSpecInput): OciSpec {
  const { job, container } = input;
  const sc = effectiveSecurityContext(job.securityContext, container.securityContext);
  return buildSpec(
    withRootPath(input.rootfs),
    withProcess(container, input.image, input.fields),
    withUser(sc, { imageUser: input.image.user, rootfs: input.rootfs, imageId: input.imageId, podLabel: podLabel(job), container: container.name }),
    withPrivileged(sc, input.allowPrivileged, container.name),
    withCapabilities(sc, container.name),
    withNoNewPrivileges(sc),
    withReadonlyRootfs(sc),
    withResources(container.requests, container.limits),
    withNamespaces(input.namespaces),
    withHostname(undefined), // joins the sandbox's UTS namespace, which carries the hostname
    withMounts(input.mounts),
    withCgroupsPath(input.cgroupsPath),
    withAnnotations({ 'io.kubernetes.pod.uid': job.uid, 'io.kubernetes.pod.name': job.name, 'io.kubernetes.pod.namespace': job.namespace, 'io.kubernetes.container.name': container.name }),
  );
}
