// Test bundles: a busybox rootfs (the static /bin/busybox plus its applet links) and a
// config.json equal to `runc spec` output unless options say otherwise, so the same bundle
// runs under burstlet-runtime, runc and crun.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCri, type CriLine } from '../../../workers/executor/cri-log-lines.ts';

let applets: string[] | undefined;

/** Busybox applet names, read once from the binary. */
function busyboxApplets(): string[] {
  applets ??= execFileSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  return applets;
}

/** Writes a busybox rootfs into `rootfs` (bin/, plus empty dev, proc, sys, tmp, etc). */
export function makeBusyboxRootfs(rootfs: string, extraFiles: Record<string, string> = {}): void {
  for (const d of ['bin', 'dev', 'proc', 'sys', 'tmp', 'etc', 'mnt']) mkdirSync(join(rootfs, d), { recursive: true });
  copyFileSync('/bin/busybox', join(rootfs, 'bin/busybox'));
  for (const a of busyboxApplets()) if (a !== 'busybox') symlinkSync('busybox', join(rootfs, 'bin', a));
  for (const [path, from] of Object.entries(extraFiles)) copyFileSync(from, join(rootfs, path));
}

export interface SpecOptions {
  args: string[];
  env?: string[];
  cwd?: string;
  user?: { uid: number; gid: number; additionalGids?: number[] };
  hostname?: string;
  readonlyRoot?: boolean;
  /** Replaces the default namespaces (pid, network, ipc, uts, mount). */
  namespaces?: Array<{ type: string; path?: string }>;
  resources?: Record<string, unknown>;
  extraMounts?: Array<Record<string, unknown>>;
  noNewPrivileges?: boolean;
  capabilities?: string[];
  rlimits?: Array<{ type: string; hard: number; soft: number }>;
  sysctl?: Record<string, string>;
  annotations?: Record<string, string>;
  cgroupsPath?: string;
}

const defaultCaps = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

/** The config.json object, shaped like `runc spec` (runtime-spec 1.0.2). */
export function specFor(o: SpecOptions): Record<string, unknown> {
  const caps = o.capabilities ?? defaultCaps;
  const linux: Record<string, unknown> = {
    resources: { devices: [{ allow: false, access: 'rwm' }], ...(o.resources ?? {}) },
    namespaces: o.namespaces ?? [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
    maskedPaths: ['/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
      '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware', '/proc/scsi'],
    readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
  };
  if (o.sysctl) linux.sysctl = o.sysctl;
  if (o.cgroupsPath) linux.cgroupsPath = o.cgroupsPath;
  return {
    ociVersion: '1.0.2-dev',
    process: {
      terminal: false,
      user: o.user ?? { uid: 0, gid: 0 },
      args: o.args,
      env: o.env ?? ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: o.cwd ?? '/',
      capabilities: { bounding: caps, effective: caps, permitted: caps, ambient: caps },
      rlimits: o.rlimits ?? [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: o.noNewPrivileges ?? true,
    },
    root: { path: 'rootfs', readonly: o.readonlyRoot ?? true },
    ...(o.hostname === '' ? {} : { hostname: o.hostname ?? 'runc' }),
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts',
        options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      ...(o.extraMounts ?? []),
    ],
    linux,
    ...(o.annotations ? { annotations: o.annotations } : {}),
  };
}

/** A temp directory for one test: bundles, state roots, logs. Removed by `cleanup`. */
export interface Scratch {
  dir: string;
  /** Creates <dir>/<name>/{rootfs,config.json}; returns the bundle path. */
  bundle(name: string, spec: SpecOptions, extraFiles?: Record<string, string>): string;
  /** Replaces a bundle's config.json with any object (bad-input tests). */
  writeConfig(bundle: string, config: unknown): void;
  cleanup(): void;
}

export function makeScratch(prefix = 'burstlet-native-'): Scratch {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    bundle(name, spec, extraFiles) {
      const b = join(dir, name);
      makeBusyboxRootfs(join(b, 'rootfs'), extraFiles);
      writeFileSync(join(b, 'config.json'), JSON.stringify(specFor(spec), null, 2));
      return b;
    },
    writeConfig(bundle, config) {
      writeFileSync(join(bundle, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));
    },
    cleanup() {
      forceDeleteContainers(dir);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Stops and deletes every burstlet-runtime container whose state lives under `dir`, at any
 * depth up to 4 (<root>/<id>/state.json written by burstlet's monitor; an Executor keeps its
 * runtime root one level down), so a failed test leaves no monitors, containers or cgroups
 * behind — nor a process holding the test's pipes open.
 */
function forceDeleteContainers(dir: string, depth = 4): void {
  if (depth === 0) return;
  for (const entry of readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory())) {
    const state = join(dir, entry.name, 'state.json');
    if (existsSync(state) && readFileSync(state, 'utf8').includes('"monitorPid"')) {
      try {
        execFileSync(burstletRuntime, ['--root', dir, 'delete', '--force', entry.name], { stdio: 'ignore' });
      } catch {
        // best effort: the test already failed or the container is gone
      }
    } else if (!entry.name.startsWith('rootfs')) {
      forceDeleteContainers(join(dir, entry.name), depth - 1);
    }
  }
}

const burstletRuntime = join(import.meta.dirname, '../../../native/build/burstlet-runtime');

let counter = 0;
/** A container id unique across concurrent test files. */
export function uniqueId(tag: string): string {
  return `t-${tag}-${process.pid}-${++counter}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Builds native/ (a no-op when up to date), as `npm test`'s setup does. */
export function ensureNativeBuilt(): void {
  execFileSync('make', ['-s', '-C', join(import.meta.dirname, '../../../native')], { stdio: 'inherit' });
}

/** Reason to skip tests that run real containers (they need root and a built executor). */
export function skipUnlessRoot(): string | false {
  if (process.getuid?.() !== 0) return 'needs root (namespaces, cgroups, mounts)';
  return false;
}

/** Logical lines of one stream of a CRI log file (P parts joined), plus the raw records. */
export function criLog(path: string): { records: CriLine[]; lines: (stream: CriLine['stream']) => string[] } {
  const records = existsSync(path)
    ? readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => parseCri(l)!)
    : [];
  return {
    records,
    lines(stream) {
      const out: string[] = [];
      let pending = '';
      for (const r of records) {
        if (r.stream !== stream) continue;
        pending += r.line;
        if (r.tag === 'F') {
          out.push(pending);
          pending = '';
        }
      }
      return out;
    },
  };
}
