/* Spec mounts: option parsing, safe destination resolution, and the mount calls.  */
#include "rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static const struct
{
  const char *name;
  bool clear;
  unsigned long flag;
} flag_table[] = {
  { "ro", false, MS_RDONLY },        { "rw", true, MS_RDONLY },
  { "nosuid", false, MS_NOSUID },    { "suid", true, MS_NOSUID },
  { "nodev", false, MS_NODEV },      { "dev", true, MS_NODEV },
  { "noexec", false, MS_NOEXEC },    { "exec", true, MS_NOEXEC },
  { "sync", false, MS_SYNCHRONOUS }, { "async", true, MS_SYNCHRONOUS },
  { "dirsync", false, MS_DIRSYNC },  { "remount", false, MS_REMOUNT },
  { "mand", false, MS_MANDLOCK },    { "nomand", true, MS_MANDLOCK },
  { "atime", true, MS_NOATIME },     { "noatime", false, MS_NOATIME },
  { "diratime", true, MS_NODIRATIME }, { "nodiratime", false, MS_NODIRATIME },
  { "relatime", false, MS_RELATIME }, { "norelatime", true, MS_RELATIME },
  { "strictatime", false, MS_STRICTATIME }, { "nostrictatime", true, MS_STRICTATIME },
};

static const struct
{
  const char *name;
  unsigned long flag;
} propagation_table[] = {
  { "private", MS_PRIVATE },       { "rprivate", MS_PRIVATE | MS_REC },
  { "shared", MS_SHARED },         { "rshared", MS_SHARED | MS_REC },
  { "slave", MS_SLAVE },           { "rslave", MS_SLAVE | MS_REC },
  { "unbindable", MS_UNBINDABLE }, { "runbindable", MS_UNBINDABLE | MS_REC },
};

/* Matches one option against the flag and propagation tables.  */
static bool
match_flag (const char *o, struct bl_mount_flags *out)
{
  for (size_t k = 0; k < sizeof flag_table / sizeof *flag_table; k++)
    if (strcmp (o, flag_table[k].name) == 0)
      {
        if (flag_table[k].clear)
          out->flags &= ~flag_table[k].flag;
        else
          out->flags |= flag_table[k].flag;
        return true;
      }
  for (size_t k = 0; k < sizeof propagation_table / sizeof *propagation_table; k++)
    if (strcmp (o, propagation_table[k].name) == 0)
      {
        out->propagation = propagation_table[k].flag;
        return true;
      }
  return false;
}

int
bl_mount_options (char **options, size_t n, struct bl_mount_flags *out, struct bl_error *err)
{
  size_t used = 0;
  memset (out, 0, sizeof *out);
  for (size_t i = 0; i < n; i++)
    {
      const char *o = options[i];
      size_t len = strlen (o);
      if (strcmp (o, "bind") == 0 || strcmp (o, "rbind") == 0)
        {
          out->bind = true;
          out->recursive = o[0] == 'r';
          continue;
        }
      if (match_flag (o, out))
        continue;
      if (used + len + 2 > sizeof out->data)
        return bl_fail (err, 0, "mount options too long");
      if (used)
        out->data[used++] = ',';
      memcpy (out->data + used, o, len + 1);
      used += len;
    }
  return 0;
}

/* openat2 with RESOLVE_IN_ROOT so `..` and absolute symlinks stay inside the rootfs.  */
static int
openat_in_root (int rootfd, const char *path, int flags)
{
  struct open_how how = { .flags = (unsigned long long) (flags | O_CLOEXEC),
                          .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
  return (int) syscall (SYS_openat2, rootfd, path, &how, sizeof how);
}

/* Creates the component that ends at buf[len] (a directory, or a file when `file`).  */
static int
create_component (int rootfd, char *buf, bool file, struct bl_error *err)
{
  char *slash = strrchr (buf, '/');
  const char *name = slash ? slash + 1 : buf;
  cleanup_close int parent = -1;
  int r;
  if (slash)
    *slash = '\0';
  parent = openat_in_root (rootfd, slash ? buf : ".", O_PATH | O_DIRECTORY);
  if (slash)
    *slash = '/';
  if (parent < 0)
    return bl_fail (err, errno, "open parent of `/%s` in rootfs", buf);
  r = file ? mknodat (parent, name, S_IFREG | 0644, 0) : mkdirat (parent, name, 0755);
  if (r < 0 && errno != EEXIST)
    return bl_fail (err, errno, "create `/%s` in rootfs", buf);
  return 0;
}

int
bl_open_in_root (int rootfd, const char *path, bool create, bool file, struct bl_error *err)
{
  char buf[4096];
  int fd;
  while (*path == '/')
    path++;
  fd = openat_in_root (rootfd, *path ? path : ".", O_PATH);
  if (fd >= 0 || errno != ENOENT || !create)
    return fd >= 0 ? fd : bl_fail (err, errno, "open `/%s` in rootfs", path);
  if (strlen (path) >= sizeof buf)
    return bl_fail (err, ENAMETOOLONG, "open `/%s` in rootfs", path);
  strcpy (buf, path);
  for (char *s = buf + 1;; s++)
    {
      bool last = *s == '\0';
      if (*s != '/' && !last)
        continue;
      *s = '\0';
      if (create_component (rootfd, buf, last && file, err) < 0)
        return -1;
      if (last)
        break;
      *s = '/';
    }
  fd = openat_in_root (rootfd, path, O_PATH);
  return fd >= 0 ? fd : bl_fail (err, errno, "open `/%s` in rootfs", path);
}

/* Bind-mounts `src` on the fd target, then applies ro/nosuid/... with a remount of the new
   mount (reached by walking `dest` again: the old fd still names the covered directory).  */
static int
bind_mount (const char *src, const char *target, int rootfd, const char *dest,
            const struct bl_mount_flags *mf, struct bl_error *err)
{
  unsigned long rec = mf->recursive ? MS_REC : 0;
  char top[64];
  cleanup_close int fd = -1;
  if (mount (src, target, NULL, MS_BIND | rec, NULL) < 0)
    return bl_fail (err, errno, "bind mount `%s` on `%s`", src, dest);
  if (!(mf->flags & ~(unsigned long) MS_REMOUNT))
    return 0;
  fd = bl_open_in_root (rootfd, dest, false, false, err);
  if (fd < 0)
    return -1;
  snprintf (top, sizeof top, "/proc/self/fd/%d", fd);
  if (mount (NULL, top, NULL, MS_BIND | MS_REMOUNT | mf->flags | rec, NULL) < 0)
    return bl_fail (err, errno, "remount `%s` with its options", dest);
  return 0;
}

/* Whether a bind source is a regular (non-directory) file, so the target is one too.  */
static bool
is_file_source (const struct bl_mount *m, bool bind)
{
  struct stat st;
  return bind && m->source && stat (m->source, &st) == 0 && !S_ISDIR (st.st_mode);
}

/* Performs one spec mount.  */
static int
do_mount (const struct bl_mount *m, int rootfd, const struct bl_cgroup_ops *cg, const char *cgpath,
          struct bl_error *err)
{
  struct bl_mount_flags mf;
  char target[64];
  const char *type = m->type ? m->type : "none";
  cleanup_close int fd = -1;

  if (bl_mount_options (m->options, m->n_options, &mf, err) < 0)
    return -1;
  if (strcmp (type, "bind") == 0)
    mf.bind = true;
  if (!mf.bind && strcmp (type, "cgroup") == 0)
    return cg->mount_view (cgpath, rootfd, m->destination, mf.flags & MS_RDONLY, err);
  fd = bl_open_in_root (rootfd, m->destination, true, is_file_source (m, mf.bind), err);
  if (fd < 0)
    return -1;
  snprintf (target, sizeof target, "/proc/self/fd/%d", fd);
  if (mf.bind)
    {
      if (bind_mount (m->source, target, rootfd, m->destination, &mf, err) < 0)
        return -1;
    }
  else if (mount (m->source ? m->source : type, target, type, mf.flags,
                  mf.data[0] ? mf.data : NULL)
           < 0)
    {
      /* Without a new network namespace sysfs cannot be mounted; runc binds it instead.  */
      struct bl_mount_flags rb = { .flags = mf.flags, .bind = true, .recursive = true };
      if (!(errno == EPERM && strcmp (type, "sysfs") == 0))
        return bl_fail (err, errno, "mount %s on `%s`", type, m->destination);
      if (bind_mount ("/sys", target, rootfd, m->destination, &rb, err) < 0)
        return -1;
    }
  if (mf.propagation)
    {
      close (fd);
      fd = bl_open_in_root (rootfd, m->destination, false, false, err);
      snprintf (target, sizeof target, "/proc/self/fd/%d", fd);
      if (fd < 0 || mount (NULL, target, NULL, mf.propagation, NULL) < 0)
        return bl_fail (err, errno, "set propagation of `%s`", m->destination);
    }
  return 0;
}

int
bl_rootfs_mounts (const struct bl_spec *spec, int rootfd, const struct bl_cgroup_ops *cg,
                  const char *cgpath, struct bl_error *err)
{
  for (size_t i = 0; i < spec->n_mounts; i++)
    if (do_mount (&spec->mounts[i], rootfd, cg, cgpath, err) < 0)
      return bl_wrap (err, "mounts[%zu]", i);
  return 0;
}
