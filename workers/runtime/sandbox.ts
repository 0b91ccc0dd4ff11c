/**
 * The pod sandbox: a pause process that only holds the pod's network, IPC and UTS
 * namespaces (busybox `sleep` as PID 1 of its own PID namespace, run by the same Executor
 * as the containers, in the pod's cgroup). Containers join those namespaces by path. Also
 * writes the pod's /etc/hosts, /etc/resolv.conf and /etc/hostname once, for every container.
 *
 * Network modes (worker setting): `host` shares the worker's network (podIP = hostIP; pods
 * with hostNetwork always get it); `bridge` attaches the pod's own network namespace to a
 * Linux bridge through the CNI plugins (own podIP, egress NAT, hostPorts); `none` gives the
 * pod its own network namespace with only loopback up (no podIP; tests, isolated jobs).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, rename, rm } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BurstletError } from '../../src/errors.ts';
import { readSmall } from '../../src/small-files.ts';
import type { PodJob } from '../../src/schema/pod-job.ts';
import type { Executor } from '../executor/executor.ts';
import { FileBatch } from '../executor/file-batch.ts';
import { containerCgroup } from './cgroups.ts';
import { cniAdd, cniDel, portMappings, type BridgeNetwork } from './cni.ts';
import { hostsFile, resolvConf } from './etc-files.ts';
import { bindMount, podHostname, withCgroupsPath, withHostname, withNamespaces, withRootPath } from './spec/linux.ts';
import { buildSpec, type OciMount } from './spec/oci.ts';
import type { SandboxNamespaces } from './spec/linux.ts';

const run = promisify(execFile);
export type NetworkMode = 'host' | 'none' | 'bridge';

/** The worker's pod network: a mode, plus the bridge network for `bridge`. */
export type SandboxNetwork = { mode: 'host' | 'none' } | { mode: 'bridge'; bridge: BridgeNetwork };
const PAUSE_ARGS = ['/bin/busybox', 'sleep', '2147483647'];

/** A running sandbox: what containers of the pod need. */
export interface SandboxInfo {
  uid: string;
  /** The pause container's executor id; '' (and pid 0) when the pod runs without one (needsPause). */
  pauseId: string;
  pausePid: number;
  namespaces: SandboxNamespaces;
  hostname: string;
  hostIP: string;
  podIP?: string;
  /** /etc/hosts, /etc/resolv.conf, /etc/hostname binds for every container. */
  etcMounts: OciMount[];
  dir: string;
  /** Attached to the CNI bridge (detach before the pause process goes). */
  cni: boolean;
}

/**
 * What every pod start asks of the host (its IP, /etc/hosts, /etc/resolv.conf, the hostname)
 * is looked up once per `ttlMs` per key: getifaddrs and the file reads of every start showed
 * in profiles, and a change reaches new pods within that time.
 */
const hostLookups = new Map<string, { value: string; at: number }>();
function reused(key: string, ttlMs: number, lookup: () => string): string {
  const known = hostLookups.get(key);
  if (known && Date.now() - known.at < ttlMs) return known.value;
  const value = lookup();
  hostLookups.set(key, { value, at: Date.now() });
  return value;
}

/** The worker's first non-internal IPv4 address (reported as hostIP), looked up at most every 10 s. */
export function hostIPv4(): string {
  return reused('ip', 10_000, () => {
    for (const addrs of Object.values(networkInterfaces())) {
      for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
    }
    return '127.0.0.1';
  });
}

/** A read-only rootfs with just static busybox, shared by every pause container. */
export async function ensurePauseRootfs(root: string, busybox = '/bin/busybox'): Promise<string> {
  const dir = join(root, 'pause', 'rootfs');
  if (existsSync(join(dir, 'bin', 'busybox'))) return dir;
  const tmp = join(root, 'pause', `tmp-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`);
  for (const d of ['bin', 'proc', 'dev', 'sys']) await mkdir(join(tmp, d), { recursive: true });
  await copyFile(busybox, join(tmp, 'bin', 'busybox'));
  await rename(tmp, dir).catch(async () => rm(tmp, { recursive: true, force: true })); // lost a race: fine
  return dir;
}

/** A host file as pods copy it ('' when unreadable), read at most every 2 s. */
function hostFile(path: string): string {
  return reused(path, 2_000, () => {
    try {
      return readSmall(path) ?? '';
    } catch {
      return ''; // unreadable: pods get an empty one
    }
  });
}

/** Files the caller writes with the sandbox's own (pod.json): one native call for all. */
export type SandboxFiles = (sandbox: SandboxInfo) => { path: string; text: string }[];

/** The /etc files a pod's data dir holds (kept when the dir is recycled for the next pod). */
export const ETC_FILES = ['hosts', 'resolv.conf', 'hostname'] as const;

/**
 * The pod's managed /etc files in `etcDir` (the pod's data dir: containers may write them, so
 * they are on disk, as the kubelet and containerd keep theirs) with `dir` and `etcDir`
 * themselves, as one batch (the caller's files join it), and their binds.
 */
function etcFiles(job: PodJob, dir: string, etcDir: string, hostname: string, podIP: string | undefined, hostNet: boolean, batch: FileBatch): { batch: FileBatch; mounts: OciMount[] } {
  const hosts = hostNet ? hostFile('/etc/hosts') : hostsFile(job, podIP, hostname);
  // Written in place: in a data dir reused from a spare (runtime-service.ts) they keep their blocks.
  batch
    .dir(dir)
    .dir(etcDir)
    .overwrite(join(etcDir, 'hosts'), hosts)
    .overwrite(join(etcDir, 'resolv.conf'), resolvConf(job, hostFile('/etc/resolv.conf')))
    .overwrite(join(etcDir, 'hostname'), `${hostname}\n`);
  return { batch, mounts: ETC_FILES.map((f) => bindMount(join(etcDir, f), `/etc/${f}`)) };
}

/** Writes the /etc files and the caller's files for a ready `sandbox`. */
async function writeFiles(sandbox: SandboxInfo, batch: FileBatch, extra: SandboxFiles | undefined): Promise<SandboxInfo> {
  for (const f of extra?.(sandbox) ?? []) batch.file(f.path, f.text);
  await batch.commit();
  return sandbox;
}

/**
 * Whether the pod needs a pause process. It holds namespaces for the pod's containers to
 * share and to outlive container restarts; a host-network pod with one container, no init
 * containers and restartPolicy Never has nothing to share (network and UTS are the host's)
 * and no restart to outlive, so its container owns its IPC namespace itself — one container
 * start per pod instead of two, which is most of a batch Job pod's cost. Nothing the API
 * shows differs (status, conditions, logs, exec).
 */
export function needsPause(job: PodJob, net: SandboxNetwork): boolean {
  const hostNet = job.hostNetwork === true || net.mode === 'host';
  return !(hostNet && job.restartPolicy === 'Never' && job.containers.length === 1 && (job.initContainers ?? []).length === 0);
}

/**
 * Starts the pause process for `job` under `dir` (the pod's directory, made here), when it
 * needs one, and writes the pod's /etc files to `etcDir` (default `dir`); `files` are written
 * in the same native call as the /etc files, after what `batch` already holds (the caller's
 * steps that make `etcDir`, say).
 */
export async function runSandbox(executor: Executor, root: string, job: PodJob, dir: string, net: SandboxNetwork, files?: SandboxFiles, etcDir = dir, batch = new FileBatch()): Promise<SandboxInfo> {
  const hostNet = job.hostNetwork === true || net.mode === 'host';
  const hostname = hostNet ? hostFile('/proc/sys/kernel/hostname').trim() : podHostname(job.name, job.hostname);
  if (!needsPause(job, net)) {
    const hostIP = hostIPv4();
    const etc = etcFiles(job, dir, etcDir, hostname, hostIP, true, batch);
    return writeFiles({
      uid: job.uid, pauseId: '', pausePid: 0, hostname, hostIP, podIP: hostIP, dir, cni: false,
      namespaces: { network: 'host', ipc: job.hostIPC ? 'host' : 'new', uts: 'host', ...(job.hostPID ? { pid: 'host' as const } : {}) },
      etcMounts: etc.mounts,
    }, etc.batch, files);
  }
  const pauseId = `${job.uid}_pause`;
  const bundle = join(dir, 'pause');
  const spec = buildSpec(
    withRootPath(await ensurePauseRootfs(root)),
    withNamespaces({ network: hostNet ? 'host' : 'new', ipc: job.hostIPC ? 'host' : 'new', uts: hostNet ? 'host' : 'new' }),
    withHostname(hostNet ? undefined : hostname),
    withCgroupsPath(containerCgroup(job.uid, 'pause')),
    (s) => {
      s.process.args = PAUSE_ARGS;
      s.root.readonly = true;
      s.process.noNewPrivileges = true;
      s.process.capabilities = { bounding: [], effective: [], permitted: [] };
    },
  );
  await new FileBatch().dir(bundle).file(join(bundle, 'config.json'), JSON.stringify(spec)).commit();
  await executor.create(pauseId, bundle, { logPath: join(bundle, 'pause.log') });
  await executor.start(pauseId);
  const st = await executor.state(pauseId);
  if (st?.status !== 'running' || !st.pid) {
    throw new BurstletError('RUNTIME_FAILED', `pod sandbox did not start: ${st?.startError ?? st?.status ?? 'unknown container'}`);
  }
  const ns = (t: string) => `/proc/${st.pid}/ns/${t}`;
  if (!hostNet) await run('nsenter', [`--net=${ns('net')}`, 'ip', 'link', 'set', 'lo', 'up']);
  const hostIP = hostIPv4();
  const cni = !hostNet && net.mode === 'bridge';
  const podIP = hostNet ? hostIP : cni ? await cniAdd(net.bridge, job.uid, ns('net'), portMappings(job)) : undefined;
  const etc = etcFiles(job, dir, etcDir, hostname, podIP, hostNet, batch);
  return writeFiles({
    uid: job.uid, pauseId, pausePid: st.pid, hostname, hostIP, podIP, dir, cni,
    namespaces: { network: hostNet ? 'host' : ns('net'), ipc: job.hostIPC ? 'host' : ns('ipc'), uts: hostNet ? 'host' : ns('uts'), ...(job.hostPID ? { pid: 'host' as const } : {}) },
    etcMounts: etc.mounts,
  }, etc.batch, files);
}

/** Detaches the pod from the bridge network (CRI StopPodSandbox tears the network down first). */
export async function detachNetwork(net: SandboxNetwork, job: PodJob, sandbox: Pick<SandboxInfo, 'cni' | 'pausePid'> | undefined): Promise<void> {
  if (net.mode !== 'bridge' || !sandbox?.cni) return;
  await cniDel(net.bridge, job.uid, `/proc/${sandbox.pausePid}/ns/net`, portMappings(job));
  sandbox.cni = false;
}

/** Stops and removes the pause container (idempotent). */
export async function removeSandbox(executor: Executor, uid: string): Promise<void> {
  const id = `${uid}_pause`;
  await executor.kill(id, 'SIGKILL');
  await executor.delete(id);
}
