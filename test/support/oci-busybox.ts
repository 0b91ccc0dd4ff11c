// The busybox root filesystem layer of the test images, from Debian's busybox-static.
import { readFileSync } from 'node:fs';
import type { TarEntry } from './oci-tar.ts';

/** Where the Debian busybox-static package installs the static binary. */
export const BUSYBOX_PATH = '/bin/busybox';

/** Applets linked into /bin (a fixed list, so the layer does not depend on `busybox --list`). */
export const BUSYBOX_APPLETS = [
  'sh', 'ash', 'ls', 'cat', 'echo', 'id', 'hostname', 'sleep', 'true', 'false', 'env', 'wget',
  'httpd', 'nc', 'ps', 'kill', 'mkdir', 'rm', 'rmdir', 'touch', 'test', '[', 'grep', 'sed',
  'awk', 'head', 'tail', 'wc', 'cut', 'tr', 'sort', 'uniq', 'tee', 'find', 'xargs', 'printf',
  'pwd', 'uname', 'whoami', 'date', 'stat', 'ln', 'cp', 'mv', 'chmod', 'chown', 'du', 'df',
  'mount', 'umount', 'ip', 'ifconfig', 'ping', 'nslookup', 'seq', 'yes', 'dd', 'basename',
  'dirname', 'readlink', 'realpath', 'md5sum', 'sha256sum', 'timeout', 'top', 'free', 'nproc',
  'mktemp', 'vi', 'less', 'tar', 'gzip', 'gunzip', 'nsenter', 'unshare', 'setsid', 'pidof',
  'sync', 'usleep', 'groups', 'getopt', 'expr', 'od', 'hexdump', 'base64', 'sha1sum',
];

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n';
const GROUP = 'root:x:0:\nnobody:x:65534:\n';

/**
 * Entries of the busybox rootfs: /bin/busybox with applet symlinks, /usr/bin/env for
 * shebangs, /etc/passwd and /etc/group (root and nobody 65534), /tmp 1777, empty mount points.
 */
export function busyboxEntries(): TarEntry[] {
  const dirs: TarEntry[] = [
    { name: 'bin/', type: 'dir' },
    { name: 'dev/', type: 'dir' },
    { name: 'etc/', type: 'dir' },
    { name: 'home/', type: 'dir' },
    { name: 'proc/', type: 'dir', mode: 0o555 },
    { name: 'root/', type: 'dir', mode: 0o700 },
    { name: 'sys/', type: 'dir', mode: 0o555 },
    { name: 'tmp/', type: 'dir', mode: 0o1777 },
    { name: 'usr/', type: 'dir' },
    { name: 'usr/bin/', type: 'dir' },
    { name: 'var/', type: 'dir' },
  ];
  return [
    ...dirs,
    { name: 'bin/busybox', type: 'file', mode: 0o755, data: readFileSync(BUSYBOX_PATH) },
    ...BUSYBOX_APPLETS.map((applet): TarEntry => ({ name: `bin/${applet}`, type: 'symlink', linkname: 'busybox' })),
    { name: 'usr/bin/env', type: 'symlink', linkname: '/bin/busybox' },
    { name: 'etc/passwd', type: 'file', data: PASSWD },
    { name: 'etc/group', type: 'file', data: GROUP },
  ];
}
