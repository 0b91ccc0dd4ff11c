/* File helpers: whole-file read/write, mkdir -p, atomic replace, one-file-system rm -rf.  */
#include "fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
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
static int
is_mount_root (int fd, dev_t dev)
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

struct onefs
{
  dev_t dev;
  const char *top;
  struct bl_error *err;
};

static int
remove_onefs_at (int dfd, const char *name, unsigned char type, void *arg)
{
  struct onefs *o = arg;
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
  if (is_mount_root (fd, o->dev))
    {
      close (fd);
      return bl_fail (o->err, EBUSY, "`%s` under `%s` is a mount point: not removed", name, o->top);
    }
  int r = bl_each_entry (fd, remove_onefs_at, o);
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
  struct onefs o = { .dev = st.st_dev, .top = path, .err = err };
  return remove_onefs_at (AT_FDCWD, path, DT_DIR, &o);
}

/* Drops every extended attribute of the open `fd` (user ones, ACLs, overlayfs' own): what a
   container set on a file or directory that is reused must not reach the next one.  */
static int
strip_xattrs (int fd)
{
  char names[4096];
  ssize_t n = flistxattr (fd, names, sizeof names);
  if (n < 0)
    return errno == ENOTSUP ? 0 : -1;
  for (ssize_t at = 0; at < n; at += (ssize_t) strlen (names + at) + 1)
    if (fremovexattr (fd, names + at) < 0 && errno != ENODATA)
      return -1;
  return n == sizeof names ? strip_xattrs (fd) : 0;
}

/* Gives the open `fd` the worker's ownership, `mode` and no extended attributes.  */
static int
reset_attrs (int fd, const struct stat *st, mode_t mode)
{
  if ((st->st_uid != geteuid () || st->st_gid != getegid ()) && fchown (fd, geteuid (), getegid ()) < 0)
    return -1;
  if ((st->st_mode & 07777) != (mode & 07777) && fchmod (fd, mode & 07777) < 0)
    return -1;
  return strip_xattrs (fd);
}

/* Writes `data` over the file at `path` in place (created with `mode` if missing): no
   truncation to zero first, so its disk block is kept, not freed and allocated again. Owner,
   mode and extended attributes are reset: a container may have changed them through its bind.  */
static int
overwrite_file (const char *path, const unsigned char *data, size_t n, mode_t mode, struct bl_error *err)
{
  struct stat st;
  cleanup_close int fd = open (path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0)
    return bl_fail (err, errno, "open `%s`", path);
  if (fstat (fd, &st) < 0)
    return bl_fail (err, errno, "stat `%s`", path);
  if (!S_ISREG (st.st_mode))
    return bl_fail (err, EINVAL, "`%s` is not a regular file", path);
  if (reset_attrs (fd, &st, mode) < 0)
    return bl_fail (err, errno, "reset owner, mode and attributes of `%s`", path);
  if (bl_write_all (fd, data, n) < 0)
    return bl_fail (err, errno, "write `%s`", path);
  if ((size_t) st.st_size > n && ftruncate (fd, (off_t) n) < 0)
    return bl_fail (err, errno, "truncate `%s`", path);
  return 0;
}

/* 'T': `spare` (a directory a 'C' step left) becomes `target`; when there is no spare (or
   `target` exists), mkdir -p `target` instead.  */
static int
take_spare (const char *target, const char *spare, mode_t mode, struct bl_error *err)
{
  if (*spare && renameat2 (AT_FDCWD, spare, AT_FDCWD, target, RENAME_NOREPLACE) == 0)
    return 0;
  return bl_mkdir_p (target, mode, err);
}

/* A kept tree ("name/" in a recycle's keep list): its directories stay, its regular files stay
   truncated to zero, all of them reset; anything else, and whatever passes `budget` entries,
   is removed. A pod's log directory is kept so: the next pod's containers of the same names
   find their log and termination-log files there instead of making them anew.  */
struct scrub
{
  struct onefs o;
  int budget;
};

static int
scrub_at (int dfd, const char *name, unsigned char type, void *arg)
{
  struct scrub *s = arg;
  struct stat st;
  if (--s->budget < 0)
    return remove_onefs_at (dfd, name, type, &s->o);
  if (type == DT_DIR || type == DT_UNKNOWN)
    {
      cleanup_close int fd = openat (dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd >= 0)
        {
          if (is_mount_root (fd, s->o.dev))
            return bl_fail (s->o.err, EBUSY, "`%s` under `%s` is a mount point: not removed", name, s->o.top);
          int e = bl_each_entry (fd, scrub_at, s);
          if (e == BL_READDIR_FAILED)
            return bl_fail (s->o.err, errno, "read directory `%s` under `%s`", name, s->o.top);
          if (e < 0)
            return -1;
          if (fstat (fd, &st) < 0 || reset_attrs (fd, &st, 0755) < 0)
            return bl_fail (s->o.err, errno, "reset `%s` under `%s`", name, s->o.top);
          return 0;
        }
      if (errno != ENOTDIR && errno != ELOOP)
        return errno == ENOENT ? 0 : bl_fail (s->o.err, errno, "open `%s` under `%s`", name, s->o.top);
    }
  if (type == DT_REG || type == DT_UNKNOWN)
    {
      cleanup_close int fd = openat (dfd, name, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
      if (fd >= 0 && fstat (fd, &st) == 0 && S_ISREG (st.st_mode))
        {
          if ((st.st_size > 0 && ftruncate (fd, 0) < 0) || reset_attrs (fd, &st, st.st_mode & 0777) < 0)
            return bl_fail (s->o.err, errno, "reset `%s` under `%s`", name, s->o.top);
          return 0;
        }
    }
  return remove_onefs_at (dfd, name, type, &s->o);
}

struct recycle
{
  struct onefs o;
  const char *keep; /* NUL-separated names, `keep_len` bytes */
  size_t keep_len;
  mode_t mode;
};

/* 0: `name` is not kept; 1: kept; 2: kept as a tree ("name/", see scrub_at).  */
static int
kept (const struct recycle *r, const char *name)
{
  size_t len = strlen (name);
  for (size_t at = 0; at < r->keep_len;)
    {
      size_t n = strnlen (r->keep + at, r->keep_len - at); /* the last name has no NUL */
      if (n == len && memcmp (r->keep + at, name, n) == 0)
        return 1;
      if (n == len + 1 && r->keep[at + len] == '/' && memcmp (r->keep + at, name, len) == 0)
        return 2;
      at += n + 1;
    }
  return 0;
}

/* One entry of a directory being recycled: removed, unless kept. A kept file stays as it is
   (the next user overwrites it); a kept directory is emptied and reset to `mode`.  */
static int
recycle_entry (int dfd, const char *name, unsigned char type, void *arg)
{
  struct recycle *r = arg;
  struct stat st;
  int how = kept (r, name);
  if (how == 0)
    return remove_onefs_at (dfd, name, type, &r->o);
  if (type != DT_DIR && type != DT_UNKNOWN)
    return 0;
  cleanup_close int fd = openat (dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return errno == ENOTDIR || errno == ELOOP ? 0 : bl_fail (r->o.err, errno, "open `%s` under `%s`", name, r->o.top);
  if (is_mount_root (fd, r->o.dev))
    return bl_fail (r->o.err, EBUSY, "`%s` under `%s` is a mount point: not removed", name, r->o.top);
  struct scrub sc = { .o = r->o, .budget = 64 };
  int e = how == 2 ? bl_each_entry (fd, scrub_at, &sc) : bl_each_entry (fd, remove_onefs_at, &r->o);
  if (e == BL_READDIR_FAILED)
    return bl_fail (r->o.err, errno, "read directory `%s` under `%s`", name, r->o.top);
  if (e < 0)
    return -1;
  if (fstat (fd, &st) < 0 || reset_attrs (fd, &st, r->mode) < 0)
    return bl_fail (r->o.err, errno, "reset `%s` under `%s`", name, r->o.top);
  return 0;
}

/* 'C': empties `path` but for the `keep` names (see recycle_entry) and renames it to `spare`,
   for a 'T' step to take; when any of that fails, removes `path` as 'r' does.  */
static int
recycle_dir (const char *path, const char *spare, const char *keep, size_t keep_len, mode_t mode,
             struct bl_error *err)
{
  struct stat st;
  int ok = 0;
  {
    cleanup_close int fd = open (path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
      return errno == ENOENT ? 0 : bl_remove_tree_onefs (path, err);
    if (fstat (fd, &st) == 0)
      {
        struct recycle r = { .o = { .dev = st.st_dev, .top = path, .err = NULL }, .keep = keep, .keep_len = keep_len, .mode = mode };
        ok = bl_each_entry (fd, recycle_entry, &r) == 0;
      }
  }
  if (ok && renameat2 (AT_FDCWD, path, AT_FDCWD, spare, RENAME_NOREPLACE) == 0)
    return 0;
  return bl_remove_tree_onefs (path, err);
}

/* Reads a little-endian u32 at `*at`, advancing it; -1 when fewer than 4 bytes remain.  */
static int
take_u32 (const unsigned char *buf, size_t len, size_t *at, uint32_t *out)
{
  if (len - *at < 4)
    return -1;
  *out = (uint32_t) buf[*at] | (uint32_t) buf[*at + 1] << 8 | (uint32_t) buf[*at + 2] << 16
         | (uint32_t) buf[*at + 3] << 24;
  *at += 4;
  return 0;
}

static int
write_new_file (const char *path, const unsigned char *data, size_t n, mode_t mode, int excl,
                struct bl_error *err)
{
  int fd = open (path, O_WRONLY | O_CREAT | O_CLOEXEC | (excl ? O_EXCL : O_TRUNC), mode);
  if (fd < 0)
    return bl_fail (err, errno, "create `%s`", path);
  if (bl_write_all (fd, data, n) < 0)
    {
      int e = errno;
      close (fd);
      return bl_fail (err, e, "write `%s`", path);
    }
  if (close (fd) < 0)
    return bl_fail (err, errno, "close `%s`", path);
  return 0;
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

/* A batch's 'm' record: `data` is "type\0source\0options" (`len` bytes).  */
static int
batch_mount (const char *target, uint32_t flags, const char *data, size_t len, struct bl_error *err)
{
  char buf[8192];
  const char *type, *source, *options;
  size_t tl, sl;
  if (len >= sizeof buf)
    return bl_fail (err, E2BIG, "file batch: mount options for `%s` too long", target);
  memcpy (buf, data, len);
  buf[len] = '\0';
  type = buf;
  tl = strnlen (type, len);
  if (tl == 0 || tl >= len)
    return bl_fail (err, EINVAL, "file batch: malformed mount record for `%s`", target);
  source = buf + tl + 1;
  sl = strnlen (source, len - tl - 1);
  if (tl + 1 + sl >= len)
    return bl_fail (err, EINVAL, "file batch: malformed mount record for `%s`", target);
  options = source + sl + 1;
  if (mount (source, target, type, flags, *options ? options : NULL) < 0)
    return bl_fail (err, errno, "mount %s on `%s`", type, target);
  return 0;
}

int
bl_write_tree (const unsigned char *buf, size_t len, struct bl_error *err)
{
  size_t at = 0;
  while (at < len)
    {
      char path[PATH_MAX];
      uint32_t mode, plen, dlen;
      unsigned char kind = buf[at++];
      if (take_u32 (buf, len, &at, &mode) < 0 || take_u32 (buf, len, &at, &plen) < 0
          || plen == 0 || plen >= sizeof path || len - at < plen)
        return bl_fail (err, EINVAL, "file batch: malformed record at byte %zu", at);
      memcpy (path, buf + at, plen);
      path[plen] = '\0';
      at += plen;
      if (strlen (path) != plen || take_u32 (buf, len, &at, &dlen) < 0 || len - at < dlen)
        return bl_fail (err, EINVAL, "file batch: malformed record for `%s`", path);
      if (kind == 'd')
        {
          if (bl_mkdir_p (path, (mode_t) mode, err) < 0)
            return -1;
        }
      else if (kind == 'f' || kind == 'x')
        {
          if (write_new_file (path, buf + at, dlen, (mode_t) mode, kind == 'x', err) < 0)
            return -1;
        }
      else if (kind == 'm')
        {
          if (batch_mount (path, mode, (const char *) buf + at, dlen, err) < 0)
            return -1;
        }
      else if (kind == 'u')
        {
          if (bl_unmount_all_at (path, err) < 0)
            return -1;
        }
      else if (kind == 'r')
        {
          if (bl_remove_tree_onefs (path, err) < 0)
            return -1;
        }
      else if (kind == 'o')
        {
          if (overwrite_file (path, buf + at, dlen, (mode_t) mode, err) < 0)
            return -1;
        }
      else if (kind == 'T' || kind == 'C')
        {
          /* data: the spare's path, then (for 'C') NUL and the names to keep, NUL-separated.  */
          char spare[PATH_MAX];
          size_t sl = strnlen ((const char *) buf + at, dlen);
          if (sl >= sizeof spare)
            return bl_fail (err, ENAMETOOLONG, "file batch: spare dir for `%s`", path);
          memcpy (spare, buf + at, sl);
          spare[sl] = '\0';
          if (kind == 'T' ? take_spare (path, spare, (mode_t) mode, err) < 0
                          : (sl == 0 ? bl_fail (err, EINVAL, "file batch: no spare dir to recycle `%s` to", path)
                                     : recycle_dir (path, spare, (const char *) buf + at + sl + 1,
                                                    sl < dlen ? dlen - sl - 1 : 0, (mode_t) mode, err))
                                < 0)
            return -1;
        }
      else
        return bl_fail (err, EINVAL, "file batch: unknown kind %u for `%s`", kind, path);
      at += dlen;
    }
  return 0;
}
