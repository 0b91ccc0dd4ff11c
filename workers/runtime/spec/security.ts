/**
 * securityContext → process user, capabilities, no_new_privs, read-only rootfs, privileged.
 * Container settings override the pod's (the kubelet's DetermineEffectiveSecurityContext);
 * the checks and their messages are the kubelet's, so users see familiar errors.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BurstletError } from '../../../src/errors.ts';
import { ALL_CAPABILITIES, withCapPrefix, type SpecOption } from './oci.ts';

/** The Kubernetes securityContext fields burstlet reads (v1.SecurityContext ∪ v1.PodSecurityContext). */
export interface SecurityContext {
  runAsUser?: number;
  runAsGroup?: number;
  runAsNonRoot?: boolean;
  readOnlyRootFilesystem?: boolean;
  allowPrivilegeEscalation?: boolean;
  privileged?: boolean;
  capabilities?: { add?: string[]; drop?: string[] };
  supplementalGroups?: number[];
  fsGroup?: number;
}

/** The pod's and the container's contexts merged; container fields win. */
export function effectiveSecurityContext(pod: unknown, container: unknown): SecurityContext {
  const p = (pod ?? {}) as SecurityContext;
  const c = (container ?? {}) as SecurityContext;
  return {
    ...c,
    runAsUser: c.runAsUser ?? p.runAsUser,
    runAsGroup: c.runAsGroup ?? p.runAsGroup,
    runAsNonRoot: c.runAsNonRoot ?? p.runAsNonRoot,
    supplementalGroups: p.supplementalGroups,
    fsGroup: p.fsGroup,
  };
}

/** Who a container runs as and where the names were resolved. */
export interface UserContext {
  /** The image config's `User` ("uid", "uid:gid", "name", "name:group" or ""). */
  imageUser: string;
  /** Mounted rootfs, for /etc/passwd and /etc/group lookups (absent: numeric only). */
  rootfs?: string;
  /**
   * The image the rootfs was just made from: its /etc/passwd and /etc/group are the image's,
   * so they are read once per image (a container start read both every time).
   */
  imageId?: string;
  /** `name_namespace(uid)` as the kubelet formats a pod in messages. */
  podLabel: string;
  container: string;
}

interface DbEntry { name: string; id: number; gid: number; members: string[] }

const dbCache = new Map<string, DbEntry[]>();
const DB_CACHE_MAX = 64;

function readDb(rootfs: string | undefined, file: 'passwd' | 'group', imageId?: string): DbEntry[] {
  if (!rootfs) return [];
  if (!imageId) return parseDb(rootfs, file);
  const key = `${imageId}\0${file}`;
  let entries = dbCache.get(key);
  if (!entries) {
    entries = parseDb(rootfs, file);
    if (dbCache.size >= DB_CACHE_MAX) dbCache.delete(dbCache.keys().next().value!);
    dbCache.set(key, entries);
  }
  return entries;
}

function parseDb(rootfs: string, file: 'passwd' | 'group'): DbEntry[] {
  let text = '';
  try {
    text = readFileSync(join(rootfs, 'etc', file), 'utf8');
  } catch {
    return [];
  }
  return text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => {
    const f = l.split(':');
    return file === 'passwd'
      ? { name: f[0], id: Number(f[2]), gid: Number(f[3]), members: [] }
      : { name: f[0], id: Number(f[2]), gid: Number(f[2]), members: (f[3] ?? '').split(',').filter(Boolean) };
  });
}

const numeric = (s: string) => /^\d+$/.test(s);

/** runAsNonRoot the kubelet way: refuses uid 0 and users it cannot verify. */
function verifyNonRoot(sc: SecurityContext, u: UserContext, uid: number | undefined, userName: string): void {
  if (!sc.runAsNonRoot) return;
  const where = `(pod: ${JSON.stringify(u.podLabel)}, container: ${u.container})`;
  if (sc.runAsUser !== undefined) {
    if (sc.runAsUser === 0) throw new BurstletError('CONTAINER_CONFIG', `container's runAsUser breaks non-root policy ${where}`);
    return;
  }
  if (uid === undefined) {
    throw new BurstletError('CONTAINER_CONFIG', `container has runAsNonRoot and image has non-numeric user (${userName}), cannot verify user is non-root ${where}`);
  }
  if (uid === 0) throw new BurstletError('CONTAINER_CONFIG', `container has runAsNonRoot and image will run as root ${where}`);
}

/** process.user from runAsUser/runAsGroup, else the image user; plus supplemental groups. */
export function withUser(sc: SecurityContext, u: UserContext): SpecOption {
  return (spec) => {
    const [userPart, groupPart] = u.imageUser.split(':', 2) as [string, string | undefined];
    const passwd = readDb(u.rootfs, 'passwd', u.imageId);
    const groups = readDb(u.rootfs, 'group', u.imageId);
    const imageUid = userPart === '' ? 0 : numeric(userPart) ? Number(userPart) : passwd.find((p) => p.name === userPart)?.id;
    verifyNonRoot(sc, u, numeric(userPart) || userPart === '' ? imageUid : undefined, userPart);
    const uid = sc.runAsUser ?? imageUid;
    if (uid === undefined) {
      throw new BurstletError('CONTAINER_CREATE', `container ${u.container}: unable to find user ${userPart}: no matching entries in passwd file`);
    }
    const entry = passwd.find((p) => p.id === uid);
    let gid = entry?.gid ?? 0;
    if (groupPart !== undefined && sc.runAsUser === undefined) {
      const g = numeric(groupPart) ? Number(groupPart) : groups.find((x) => x.name === groupPart)?.id;
      if (g === undefined) throw new BurstletError('CONTAINER_CREATE', `container ${u.container}: unable to find group ${groupPart}`);
      gid = g;
    }
    if (sc.runAsGroup !== undefined) gid = sc.runAsGroup;
    const extra = new Set<number>();
    if (entry) for (const g of groups) if (g.members.includes(entry.name)) extra.add(g.id);
    for (const g of sc.supplementalGroups ?? []) extra.add(g);
    if (sc.fsGroup !== undefined) extra.add(sc.fsGroup);
    extra.delete(gid);
    spec.process.user = { uid, gid, ...(extra.size ? { additionalGids: [...extra].sort((a, b) => a - b) } : {}) };
  };
}

function checkCaps(names: readonly string[], container: string): string[] {
  return names.map((raw) => {
    const n = raw.toUpperCase().replace(/^CAP_/, '');
    if (n !== 'ALL' && !ALL_CAPABILITIES.includes(n)) {
      throw new BurstletError('CONTAINER_CREATE', `container ${container}: unknown capability "${raw}"`);
    }
    return n;
  });
}

/** capabilities.add/drop over the default set (containerd's TweakCapabilities, with ALL). */
export function withCapabilities(sc: SecurityContext, container: string): SpecOption {
  return (spec) => {
    if (sc.privileged) return; // withPrivileged grants everything
    const add = checkCaps(sc.capabilities?.add ?? [], container);
    const drop = checkCaps(sc.capabilities?.drop ?? [], container);
    let caps = spec.process.capabilities.bounding.map((c) => c.replace(/^CAP_/, ''));
    if (drop.includes('ALL')) caps = [];
    else caps = caps.filter((c) => !drop.includes(c));
    if (add.includes('ALL')) caps = [...ALL_CAPABILITIES];
    else for (const c of add) if (!caps.includes(c)) caps.push(c);
    const list = withCapPrefix(caps);
    spec.process.capabilities = { bounding: [...list], effective: [...list], permitted: [...list] };
  };
}

/** allowPrivilegeEscalation: false → no_new_privs (Kubernetes defaults it to allowed). */
export function withNoNewPrivileges(sc: SecurityContext): SpecOption {
  return (spec) => {
    spec.process.noNewPrivileges = sc.allowPrivilegeEscalation === false;
  };
}

export function withReadonlyRootfs(sc: SecurityContext): SpecOption {
  return (spec) => {
    spec.root.readonly = sc.readOnlyRootFilesystem === true;
  };
}

/** privileged: all capabilities, no masked paths, rw sysfs, all devices — only where allowed. */
export function withPrivileged(sc: SecurityContext, allowed: boolean, container: string): SpecOption {
  return (spec) => {
    if (!sc.privileged) return;
    if (!allowed) throw new BurstletError('POD_FORBIDDEN', `container ${container}: privileged containers are not allowed on this worker`);
    const all = withCapPrefix(ALL_CAPABILITIES);
    spec.process.capabilities = { bounding: [...all], effective: [...all], permitted: [...all] };
    spec.linux.maskedPaths = [];
    spec.linux.readonlyPaths = [];
    spec.linux.resources.devices = [{ allow: true, access: 'rwm' }];
    for (const m of spec.mounts) if (m.type === 'sysfs') m.options = (m.options ?? []).filter((o) => o !== 'ro');
  };
}
