/* File helpers: whole-file read/write, mkdir -p, atomic replace, one-file-system rm -rf.  */
#include "fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#ifndef STATX_ATTR_MOUNT_ROOT
#define STATX_ATTR_MOUNT_ROOT 0x00002000
#endif

int
bl_write_file (const char *path, const char *value, int create, struct bl_error *err)
{
  cleanup_close int fd = open (path, O_WRONLY | O_CLOEXEC | O_TRUNC | (create ? O_CREAT : 0), 0644);
  size_t len = strlen (value);
  ssize_t w;
  if (fd < 0)
    return bl_fail (err, errno, "open `%s`", path);
  w = write (fd, value, len);
  if (w < 0)
    return bl_fail (err, errno, "write `%s` to `%s`", value, path);
  if ((size_t) w != len)
    return bl_fail (err, EIO, "short write to `%s`", path);
  return 0;
}

ssize_t
bl_read_file (const char *path, char *buf, size_t len, struct bl_error *err)
{
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);
  size_t got = 0;
  if (fd < 0)
    return bl_fail (err, errno, "open `%s`", path);
  while (got < len - 1)
    {
      ssize_t r = read (fd, buf + got, len - 1 - got);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        return bl_fail (err, errno, "read `%s`", path);
      if (r == 0)
        break;
      got += (size_t) r;
    }
  buf[got] = '\0';
  return (ssize_t) got;
}

/* mkdir -p on a writable copy: the whole path first (usually only the last part is new), the
   parents only when it is ENOENT.  */
static int
mkdir_p_in (char *buf, mode_t mode, struct bl_error *err)
{
  char *slash;
  if (mkdir (buf, mode) == 0 || errno == EEXIST)
    return 0;
  if (errno != ENOENT || (slash = strrchr (buf, '/')) == NULL || slash == buf)
    return bl_fail (err, errno, "mkdir `%s`", buf);
  *slash = '\0';
  int r = mkdir_p_in (buf, mode, err);
  *slash = '/';
  if (r < 0)
    return -1;
  if (mkdir (buf, mode) < 0 && errno != EEXIST)
    return bl_fail (err, errno, "mkdir `%s`", buf);
  return 0;
}

int
bl_mkdir_p (const char *path, mode_t mode, struct bl_error *err)
{
  char buf[PATH_MAX];
  size_t len = strlen (path);
  if (len >= sizeof buf)
    return bl_fail (err, ENAMETOOLONG, "mkdir `%s`", path);
  memcpy (buf, path, len + 1);
  while (len > 1 && buf[len - 1] == '/')
    buf[--len] = '\0';
  return mkdir_p_in (buf, mode, err);
}

int
bl_write_atomic (const char *dir, const char *name, const char *value, struct bl_error *err)
{
  char tmp[PATH_MAX], dst[PATH_MAX];
  snprintf (tmp, sizeof tmp, "%s/.%s.tmp", dir, name);
  snprintf (dst, sizeof dst, "%s/%s", dir, name);
  if (bl_write_file (tmp, value, 1, err) < 0)
    return -1;
  if (rename (tmp, dst) < 0)
    return bl_fail (err, errno, "rename `%s` to `%s`", tmp, dst);
  return 0;
}

int
bl_write_all (int fd, const void *buf, size_t n)
{
  const char *p = buf;
  while (n > 0)
    {
      ssize_t w = write (fd, p, n);
      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0)
        return -1;
      p += w, n -= (size_t) w;
    }
  return 0;
}

/* True when the open directory `fd` is the root of a mount, or on another device than `dev`
   (kernels without STATX_ATTR_MOUNT_ROOT only get the device check, which misses a bind mount
   from the same file system).  */
int
bl_is_mount_root (int fd, dev_t dev)
{
  struct statx stx;
  if (statx (fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &stx) < 0)
    return 0;
  if (makedev (stx.stx_dev_major, stx.stx_dev_minor) != dev)
    return 1;
  return (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) && (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

int
bl_each_entry (int dfd, int (*fn) (int dfd, const char *name, unsigned char type, void *arg), void *arg)
{
  /* On the heap, as readdir's: the removers recurse once per directory level, and a
     container decides how deep its upper dir goes.  */
  enum { BUF = 4096 };
  char *buf = malloc (BUF);
  int r = 0;
  if (buf == NULL)
    return BL_READDIR_FAILED;
  for (;;)
    {
      ssize_t n = getdents64 (dfd, buf, BUF);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          r = n < 0 ? BL_READDIR_FAILED : 0;
          break;
        }
      for (ssize_t at = 0; at < n && r >= 0;)
        {
          struct dirent64 *e = (struct dirent64 *) (buf + at);
          at += e->d_reclen;
          if (e->d_name[0] == '.' && (e->d_name[1] == '\0' || (e->d_name[1] == '.' && e->d_name[2] == '\0')))
            continue;
          r = fn (dfd, e->d_name, e->d_type, arg);
        }
      if (r < 0)
        break;
    }
  int saved = errno;
  free (buf);
  errno = saved;
  return r;
}

int
bl_remove_onefs_at (int dfd, const char *name, unsigned char type, void *arg)
{
  struct bl_onefs *o = arg;
  int fd = -1;
  /* getdents says what is not a directory: unlinked without trying to open it first.  */
  if (type == DT_UNKNOWN || type == DT_DIR)
    fd = openat (dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    {
      if (type == DT_UNKNOWN || type == DT_DIR)
        {
          if (errno == ENOENT)
            return 0;
          if (errno != ENOTDIR && errno != ELOOP)
            return bl_fail (o->err, errno, "open `%s` under `%s`", name, o->top);
        }
      if (unlinkat (dfd, name, 0) < 0 && errno != ENOENT)
        return bl_fail (o->err, errno, "unlink `%s` under `%s`", name, o->top);
      return 0;
    }
  if (bl_is_mount_root (fd, o->dev))
    {
      close (fd);
      return bl_fail (o->err, EBUSY, "`%s` under `%s` is a mount point: not removed", name, o->top);
    }
  int r = bl_each_entry (fd, bl_remove_onefs_at, o);
  int saved = errno;
  close (fd);
  if (r == BL_READDIR_FAILED)
    return bl_fail (o->err, saved, "read directory `%s` under `%s`", name, o->top);
  if (r < 0)
    return -1;
  if (unlinkat (dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
    return bl_fail (o->err, errno, "rmdir `%s` under `%s`", name, o->top);
  return 0;
}

static int
rmdir_child (int dfd, const char *name, unsigned char type, void *arg)
{
  (void) arg;
  if (type != DT_DIR && type != DT_UNKNOWN)
    return 0;
  if (unlinkat (dfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT || errno == ENOTDIR)
    return 0;
  if (errno == ENOTEMPTY || errno == EBUSY || errno == EEXIST)
    {
      int fd = openat (dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd >= 0)
        {
          bl_each_entry (fd, rmdir_child, NULL);
          close (fd);
          (void) unlinkat (dfd, name, AT_REMOVEDIR);
        }
    }
  return 0; /* what stays is found by the caller's last rmdir */
}

int
bl_rmdir_tree (const char *path)
{
  if (rmdir (path) == 0 || errno == ENOENT)
    return 1;
  int fd = open (path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0)
    {
      bl_each_entry (fd, rmdir_child, NULL);
      close (fd);
    }
  return rmdir (path) == 0 || errno == ENOENT;
}

int
bl_remove_tree_onefs (const char *path, struct bl_error *err)
{
  struct stat st;
  char parent[PATH_MAX];
  const char *slash = strrchr (path, '/');
  if (lstat (path, &st) < 0)
    return errno == ENOENT ? 0 : bl_fail (err, errno, "stat `%s`", path);
  if (!S_ISDIR (st.st_mode))
    return unlink (path) < 0 && errno != ENOENT ? bl_fail (err, errno, "unlink `%s`", path) : 0;
  /* The tree's own device is its parent's: `path` itself must not be a mount point either.  */
  if (slash == NULL)
    snprintf (parent, sizeof parent, ".");
  else if (slash == path)
    snprintf (parent, sizeof parent, "/");
  else
    snprintf (parent, sizeof parent, "%.*s", (int) (slash - path), path);
  if (stat (parent, &st) < 0)
    return bl_fail (err, errno, "stat `%s`", parent);
  struct bl_onefs o = { .dev = st.st_dev, .top = path, .err = err };
  return bl_remove_onefs_at (AT_FDCWD, path, DT_DIR, &o);
}

int
bl_unmount_all_at (const char *target, struct bl_error *err)
{
  for (int i = 0; i < 16; i++)
    {
      if (umount2 (target, 0) == 0)
        continue;
      if (errno == EINVAL || errno == ENOENT)
        return 0; /* nothing (more) mounted there */
      if (umount2 (target, MNT_DETACH) == 0)
        continue;
      if (errno == EINVAL || errno == ENOENT)
        return 0;
      return bl_fail (err, errno, "unmount `%s`", target);
    }
  return bl_fail (err, EBUSY, "`%s` is still mounted after 16 unmounts", target);
}
