/**
 * Pod volumes on the host and their mounts into containers. emptyDir is a directory (tmpfs
 * with `medium: Memory`, sized by sizeLimit); configMap/secret/downwardAPI/projected/
 * serviceAccountToken are directories holding the files the provider resolved into the
 * PodJob, with their modes, mounted read-only as the kubelet does; hostPath only where the
 * worker allows it. A problem the user caused → CreateContainerConfigError naming the volume.
 */
import { chmod, mkdir, realpath, stat, writeFile } from 'node:fs/promises';
import { dirname, join, normalize, sep } from 'node:path';
import { BurstletError } from '../../src/errors.ts';
import type { ContainerSpec, VolumeSpec } from '../../src/schema/pod-job.ts';
import { bindMount } from './spec/linux.ts';
import type { OciMount } from './spec/oci.ts';
import { mountAt, removeTree, unmount } from './mounts.ts';

/** A volume ready on the host. */
export interface PodVolume {
  name: string;
  type: VolumeSpec['type'];
  hostPath: string;
  /** Mounted read-only whatever the volumeMount says. */
  forcedReadOnly: boolean;
  /** tmpfs we mounted (to unmount on cleanup). */
  tmpfs: boolean;
}

export interface VolumePolicy {
  allowHostPath: boolean;
}

const FILE_VOLUMES = new Set(['configMap', 'secret', 'downwardAPI', 'projected', 'serviceAccountToken']);
const configError = (volume: string, msg: string) => new BurstletError('CONTAINER_CONFIG', `volume "${volume}": ${msg}`, { details: { volume } });

/** A relative path that stays inside its base (no absolute path, no `..`). */
export function safeRelative(volume: string, p: string, what: string): string {
  const n = normalize(p);
  if (p.startsWith('/') || n === '..' || n.startsWith(`..${sep}`)) throw configError(volume, `${what} "${p}" must be a relative path without ".."`);
  return n;
}

async function writeFiles(v: VolumeSpec, dir: string): Promise<void> {
  for (const f of v.files ?? []) {
    const rel = safeRelative(v.name, f.path, 'file path');
    const target = join(dir, rel);
    await mkdir(dirname(target), { recursive: true, mode: 0o755 });
    await writeFile(target, Buffer.from(f.contentBase64, 'base64'));
    await chmod(target, f.mode ?? v.defaultMode ?? 0o644);
  }
}

async function hostPathVolume(v: VolumeSpec, policy: VolumePolicy): Promise<string> {
  if (!policy.allowHostPath) throw configError(v.name, 'hostPath volumes are not allowed on this worker');
  const p = v.hostPath;
  if (!p?.startsWith('/')) throw configError(v.name, 'hostPath needs an absolute path');
  if (v.hostPathType === 'DirectoryOrCreate') await mkdir(p, { recursive: true, mode: 0o755 });
  const st = await stat(p).catch(() => undefined);
  if (v.hostPathType && v.hostPathType !== 'DirectoryOrCreate' && v.hostPathType !== 'FileOrCreate' && !st) {
    throw configError(v.name, `hostPath ${p} does not exist (type ${v.hostPathType})`);
  }
  if (v.hostPathType === 'Directory' && !st?.isDirectory()) throw configError(v.name, `hostPath ${p} is not a directory`);
  if (v.hostPathType === 'File' && !st?.isFile()) throw configError(v.name, `hostPath ${p} is not a file`);
  if (v.hostPathType === 'FileOrCreate' && !st) await writeFile(p, '');
  return p;
}

/** Where the pod's volume `name` lives on the host (hostPath volumes excepted). */
export function volumeDir(podDir: string, name: string): string {
  if (!name || name.includes(sep) || name === '.' || name === '..') throw configError(name, 'invalid volume name');
  return join(podDir, 'volumes', name);
}

/** Sets up every volume of the pod under `podDir/volumes`. */
export async function preparePodVolumes(volumes: readonly VolumeSpec[], podDir: string, policy: VolumePolicy): Promise<PodVolume[]> {
  const out: PodVolume[] = [];
  for (const v of volumes) {
    const dir = volumeDir(podDir, v.name);
    if (v.type === 'hostPath') {
      out.push({ name: v.name, type: v.type, hostPath: await hostPathVolume(v, policy), forcedReadOnly: v.readOnly === true, tmpfs: false });
    } else if (v.type === 'emptyDir') {
      await mkdir(dir, { recursive: true });
      await chmod(dir, 0o777); // the kubelet's emptyDir mode: any container user may write
      const tmpfs = v.medium === 'Memory';
      if (tmpfs) await mountAt({ type: 'tmpfs', source: 'tmpfs', options: ['mode=1777', ...(v.sizeLimitBytes ? [`size=${v.sizeLimitBytes}`] : [])] }, dir);
      out.push({ name: v.name, type: v.type, hostPath: dir, forcedReadOnly: false, tmpfs });
    } else if (FILE_VOLUMES.has(v.type)) {
      await mkdir(dir, { recursive: true, mode: 0o755 });
      await writeFiles(v, dir);
      out.push({ name: v.name, type: v.type, hostPath: dir, forcedReadOnly: true, tmpfs: false });
    } else {
      throw configError(v.name, `volume type "${String(v.type)}" is not supported`);
    }
  }
  return out;
}

/** Bind mounts of a container's volumeMounts (subPath resolved and kept inside the volume). */
export async function containerVolumeMounts(container: ContainerSpec, volumes: readonly PodVolume[]): Promise<OciMount[]> {
  const out: OciMount[] = [];
  for (const vm of container.volumeMounts ?? []) {
    const v = volumes.find((x) => x.name === vm.name);
    if (!v) throw new BurstletError('CONTAINER_CONFIG', `container ${container.name}: volume "${vm.name}" not found in the pod`, { details: { volume: vm.name } });
    let source = v.hostPath;
    if (vm.subPath) {
      source = join(v.hostPath, safeRelative(v.name, vm.subPath, 'subPath'));
      if (v.type === 'emptyDir') await mkdir(source, { recursive: true, mode: 0o777 });
      const real = await realpath(source).catch(() => undefined);
      const base = await realpath(v.hostPath);
      if (!real) throw configError(v.name, `subPath "${vm.subPath}" does not exist`);
      if (real !== base && !real.startsWith(base + sep)) throw configError(v.name, `subPath "${vm.subPath}" escapes the volume`);
      source = real;
    }
    out.push(bindMount(source, vm.mountPath, vm.readOnly === true || v.forcedReadOnly));
  }
  return out;
}

/** Unmounts tmpfs volumes and removes the pod's volume directories (hostPath untouched). */
export async function cleanupPodVolumes(podDir: string, volumes: readonly PodVolume[]): Promise<void> {
  for (const v of volumes) if (v.tmpfs) await unmount(v.hostPath);
  if (volumes.length) await removeTree(join(podDir, 'volumes')); // none: no dir (the pod dir's removal would take a stray one)
}
