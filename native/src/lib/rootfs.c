/* Root filesystem sequence: propagation, rootfs bind, spec mounts, /dev nodes and links,
   pivot_root (chroot where pivot_root cannot work), sysctl, masked and read-only paths.  */
#include "rootfs.h"
#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static const struct
{
  const char *name;
  unsigned int major, minor;
} default_devices[] = {
  { "null", 1, 3 }, { "zero", 1, 5 }, { "full", 1, 7 },
  { "random", 1, 8 }, { "urandom", 1, 9 }, { "tty", 5, 0 },
};

static const struct
{
  const char *target, *link;
} default_links[] = {
  { "/proc/self/fd", "fd" },         { "/proc/self/fd/0", "stdin" },
  { "/proc/self/fd/1", "stdout" },   { "/proc/self/fd/2", "stderr" },
  { "pts/ptmx", "ptmx" },
};

/* Whether the spec mounts a tmpfs on /dev, in which case the runtime populates it.  */
static bool
owns_dev (const struct bl_spec *spec)
{
  for (size_t i = 0; i < spec->n_mounts; i++)
    if (strcmp (spec->mounts[i].destination, "/dev") == 0)
      return spec->mounts[i].type && strcmp (spec->mounts[i].type, "tmpfs") == 0;
  return false;
}

/* Creates the standard device nodes (bind-mounting the host's where mknod is refused) and
   the /dev symlinks.  */
static int
populate_dev (int rootfd, struct bl_error *err)
{
  cleanup_close int dev = bl_open_in_root (rootfd, "/dev", false, false, err);
  char path[64], host[64];
  if (dev < 0)
    return -1;
  mode_t old = umask (0);
  for (size_t i = 0; i < sizeof default_devices / sizeof *default_devices; i++)
    {
      const char *name = default_devices[i].name;
      dev_t d = makedev (default_devices[i].major, default_devices[i].minor);
      if (mknodat (dev, name, S_IFCHR | 0666, d) == 0 || errno == EEXIST)
        continue;
      if (errno != EPERM || mknodat (dev, name, S_IFREG | 0644, 0) < 0)
        return umask (old), bl_fail (err, errno, "mknod `/dev/%s`", name);
      cleanup_close int fd = openat (dev, name, O_PATH | O_CLOEXEC);
      snprintf (path, sizeof path, "/proc/self/fd/%d", fd);
      snprintf (host, sizeof host, "/dev/%s", name);
      if (fd < 0 || mount (host, path, NULL, MS_BIND, NULL) < 0)
        return umask (old), bl_fail (err, errno, "bind `%s` into the container", host);
    }
  umask (old);
  for (size_t i = 0; i < sizeof default_links / sizeof *default_links; i++)
    if (symlinkat (default_links[i].target, dev, default_links[i].link) < 0 && errno != EEXIST)
      return bl_fail (err, errno, "symlink `/dev/%s`", default_links[i].link);
  if (access ("/proc/kcore", F_OK) == 0 && symlinkat ("/proc/kcore", dev, "core") < 0
      && errno != EEXIST)
    return bl_fail (err, errno, "symlink `/dev/core`");
  return 0;
}

/* Switches root to `rootfs` with pivot_root and detaches the old root; falls back to
   chroot when pivot_root is impossible (rootfs on the initramfs).  */
static int
pivot (const char *rootfs, struct bl_error *err)
{
  cleanup_close int oldroot = open ("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  cleanup_close int newroot = open (rootfs, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (oldroot < 0 || newroot < 0)
    return bl_fail (err, errno, "open `%s`", rootfs);
  if (fchdir (newroot) < 0)
    return bl_fail (err, errno, "chdir `%s`", rootfs);
  if (syscall (SYS_pivot_root, ".", ".") < 0)
    {
      if (errno != EINVAL)
        return bl_fail (err, errno, "pivot_root `%s`", rootfs);
      if (mount (rootfs, "/", NULL, MS_MOVE, NULL) < 0 || chroot (".") < 0)
        return bl_fail (err, errno, "chroot `%s`", rootfs);
      return chdir ("/") < 0 ? bl_fail (err, errno, "chdir /") : 0;
    }
  if (fchdir (oldroot) < 0)
    return bl_fail (err, errno, "fchdir old root");
  /* Keep unmount events of the old root from propagating back to the host.  */
  if (mount (NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
    return bl_fail (err, errno, "make old root rslave");
  if (umount2 (".", MNT_DETACH) < 0)
    return bl_fail (err, errno, "unmount old root");
  return chdir ("/") < 0 ? bl_fail (err, errno, "chdir /") : 0;
}

/* Writes linux.sysctl into /proc/sys of the container.  */
static int
apply_sysctl (const struct bl_spec *spec, struct bl_error *err)
{
  char path[PATH_MAX];
  for (size_t i = 0; i < spec->n_sysctls; i++)
    {
      snprintf (path, sizeof path, "/proc/sys/%s", spec->sysctls[i].key);
      for (char *p = path + 10; *p; p++)
        if (*p == '.')
          *p = '/';
      if (bl_write_file (path, spec->sysctls[i].value, 0, err) < 0)
        return bl_wrap (err, "linux.sysctl.%s", spec->sysctls[i].key);
    }
  return 0;
}

/* Read-only bind of a path onto itself; missing paths are skipped, as runc does.  */
static int
make_readonly (const char *path, struct bl_error *err)
{
  if (mount (path, path, NULL, MS_BIND | MS_REC, NULL) < 0)
    return errno == ENOENT ? 0 : bl_fail (err, errno, "bind `%s`", path);
  if (mount (NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC, NULL) < 0)
    return bl_fail (err, errno, "remount `%s` read-only", path);
  return 0;
}

/* Hides a path: /dev/null over files, an empty read-only tmpfs over directories.  */
static int
mask (const char *path, struct bl_error *err)
{
  struct stat st;
  if (stat (path, &st) < 0)
    return errno == ENOENT ? 0 : bl_fail (err, errno, "stat `%s`", path);
  if (S_ISDIR (st.st_mode))
    {
      if (mount ("tmpfs", path, "tmpfs", MS_RDONLY, NULL) < 0)
        return bl_fail (err, errno, "mask `%s` with tmpfs", path);
    }
  else if (mount ("/dev/null", path, NULL, MS_BIND, NULL) < 0)
    return bl_fail (err, errno, "mask `%s` with /dev/null", path);
  return 0;
}

/* Sets up propagation and binds the rootfs onto itself so it is a mount point.  */
static int
prepare_root (const struct bl_spec *spec, struct bl_error *err)
{
  unsigned long prop = MS_SLAVE | MS_REC;
  const char *p = spec->rootfs_propagation;
  if (p)
    prop = strcmp (p, "shared") == 0 || strcmp (p, "rshared") == 0 ? MS_SHARED | MS_REC
           : strcmp (p, "private") == 0 || strcmp (p, "rprivate") == 0 ? MS_PRIVATE | MS_REC
                                                                        : MS_SLAVE | MS_REC;
  if (mount (NULL, "/", NULL, prop, NULL) < 0)
    return bl_fail (err, errno, "set propagation of /");
  if (mount (spec->root_path, spec->root_path, NULL, MS_BIND | MS_REC, NULL) < 0)
    return bl_fail (err, errno, "bind rootfs `%s`", spec->root_path);
  /* The rootfs itself is private, so container mounts never reach the host.  */
  if (mount (NULL, spec->root_path, NULL, MS_PRIVATE, NULL) < 0)
    return bl_fail (err, errno, "make rootfs private");
  return 0;
}

int
bl_rootfs_setup (const struct bl_spec *spec, const struct bl_cgroup_ops *cg, const char *cgpath,
                 struct bl_error *err)
{
  cleanup_close int rootfd = -1;
  if (prepare_root (spec, err) < 0)
    return -1;
  rootfd = open (spec->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    return bl_fail (err, errno, "open rootfs `%s`", spec->root_path);
  if (bl_rootfs_mounts (spec, rootfd, cg, cgpath, err) < 0)
    return -1;
  if (owns_dev (spec) && populate_dev (rootfd, err) < 0)
    return -1;
  if (pivot (spec->root_path, err) < 0 || apply_sysctl (spec, err) < 0)
    return -1;
  for (size_t i = 0; i < spec->n_readonly; i++)
    if (make_readonly (spec->readonly_paths[i], err) < 0)
      return bl_wrap (err, "linux.readonlyPaths");
  for (size_t i = 0; i < spec->n_masked; i++)
    if (mask (spec->masked_paths[i], err) < 0)
      return bl_wrap (err, "linux.maskedPaths");
  if (spec->root_readonly
      && mount (NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) < 0)
    return bl_fail (err, errno, "remount / read-only");
  return 0;
}
