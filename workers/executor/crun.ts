/**
 * crun as an Executor. Debian's crun 1.8.1 refuses hybrid cgroup hosts ("cgroups in hybrid
 * mode not supported"), so there every crun call runs in a private mount namespace with
 * /sys/fs/cgroup/unified unmounted: crun then sees (and manages) pure v1. crun has no
 * `run --keep`, so OOM kills are not detected through it (`oomKilled` stays undefined).
 */
import { existsSync, readFileSync } from 'node:fs';
import { OciCliExecutor } from './oci-cli.ts';

/** True when cgroup v1 controllers and a cgroup2 mount at /sys/fs/cgroup/unified coexist. */
export function isHybridCgroupHost(): boolean {
  if (!existsSync('/sys/fs/cgroup/memory')) return false;
  return / \/sys\/fs\/cgroup\/unified .* - cgroup2 /.test(readFileSync('/proc/self/mountinfo', 'utf8'));
}

const HYBRID_WRAP = ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', 'umount /sys/fs/cgroup/unified 2>/dev/null; exec "$@"', 'crun-v1-view'];

export function crunExecutor(root: string, binary = 'crun'): OciCliExecutor {
  return new OciCliExecutor({ name: 'crun', binary, root, keep: false, wrap: isHybridCgroupHost() ? HYBRID_WRAP : [] });
}
