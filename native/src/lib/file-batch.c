/* The file batch (bl_write_tree): a pod's or container's directories, small files, mounts and
   removals in one call, and the spare-directory steps that reuse them (see fsutil.h).  */
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
#include <sys/xattr.h>
#include <unistd.h>

/* Drops every extended attribute of the open `fd` (user ones, ACLs, file capabilities,
   overlayfs' own): what a container set on a file or directory that is reused must not reach
   the next one. A security.* one that cannot go (an LSM's label, as SELinux's) stays.  */
static int
strip_xattrs (int fd)
{
  ssize_t len = flistxattr (fd, NULL, 0);
  if (len <= 0)
    return len == 0 || errno == ENOTSUP ? 0 : -1;
  char *names = malloc ((size_t) len);
  if (names == NULL)
    return -1;
  ssize_t n = flistxattr (fd, names, (size_t) len);
  int r = n < 0 ? -1 : 0;
  for (ssize_t at = 0; r == 0 && at < n; at += (ssize_t) strlen (names + at) + 1)
    if (fremovexattr (fd, names + at) < 0 && errno != ENODATA && strncmp (names + at, "security.", 9) != 0)
      r = -1;
  int saved = errno;
  free (names);
  errno = saved;
  return r;
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
  /* O_NONBLOCK: a fifo there fails (not a regular file) instead of waiting for a reader.  */
  cleanup_close int fd = open (path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, mode);
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

/* Spares are named "s-<inode>": unique while they exist, and nothing else is taken.  */
#define STOP (-3) /* ends a bl_each_entry walk early; not a failure */
static int
is_spare_name (const char *name)
{
  return name[0] == 's' && name[1] == '-' && name[2] != '\0';
}

struct take
{
  const char *target;
  int taken;
};

static int
take_one (int dfd, const char *name, unsigned char type, void *arg)
{
  struct take *t = arg;
  if ((type != DT_DIR && type != DT_UNKNOWN) || !is_spare_name (name))
    return 0;
  if (renameat2 (dfd, name, AT_FDCWD, t->target, RENAME_NOREPLACE) == 0)
    {
      t->taken = 1;
      return STOP;
    }
  return errno == ENOENT ? 0 : STOP; /* another batch took it: the next; else give up */
}

/* 'T': a spare from directory `spares` (left by a 'C' step) becomes `target`; when there is
   none (or `target` exists), mkdir -p `target` instead.  */
static int
take_spare (const char *target, const char *spares, mode_t mode, struct bl_error *err)
{
  if (*spares)
    {
      cleanup_close int fd = open (spares, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      struct take t = { .target = target, .taken = 0 };
      if (fd >= 0 && bl_each_entry (fd, take_one, &t) != BL_READDIR_FAILED && t.taken)
        return 0;
    }
  return bl_mkdir_p (target, mode, err);
}

static int
count_one (int dfd, const char *name, unsigned char type, void *arg)
{
  (void) dfd, (void) type;
  return is_spare_name (name) && --*(long *) arg <= 0 ? STOP : 0;
}

/* A kept tree ("name/" in a recycle's keep list): its directories stay, its regular files stay
   truncated to zero, all of them reset; anything else, and whatever passes `budget` entries,
   is removed. A pod's log directory is kept so: the next pod's containers of the same names
   find their log and termination-log files there instead of making them anew.  */
struct scrub
{
  struct bl_onefs o;
  int budget;
};

static int
scrub_at (int dfd, const char *name, unsigned char type, void *arg)
{
  struct scrub *s = arg;
  struct stat st;
  if (--s->budget < 0)
    return bl_remove_onefs_at (dfd, name, type, &s->o);
  if (type == DT_DIR || type == DT_UNKNOWN)
    {
      cleanup_close int fd = openat (dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd >= 0)
        {
          if (bl_is_mount_root (fd, s->o.dev))
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
  return bl_remove_onefs_at (dfd, name, type, &s->o);
}

struct recycle
{
  struct bl_onefs o;
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

/* One entry of a directory being recycled: removed, unless kept. A kept regular file stays as
   it is (the next user overwrites it), a kept name of another kind goes; a kept directory is
   emptied and reset to `mode`.  */
static int
recycle_entry (int dfd, const char *name, unsigned char type, void *arg)
{
  struct recycle *r = arg;
  struct stat st;
  int how = kept (r, name);
  if (how == 0)
    return bl_remove_onefs_at (dfd, name, type, &r->o);
  if (type == DT_REG)
    return 0;
  if (type != DT_DIR && type != DT_UNKNOWN)
    return bl_remove_onefs_at (dfd, name, type, &r->o);
  cleanup_close int fd = openat (dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == ENOTDIR && fstatat (dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG (st.st_mode))
    return 0;
  if (fd < 0)
    return errno == ENOTDIR || errno == ELOOP ? bl_remove_onefs_at (dfd, name, DT_UNKNOWN, &r->o)
                                              : bl_fail (r->o.err, errno, "open `%s` under `%s`", name, r->o.top);
  if (bl_is_mount_root (fd, r->o.dev))
    return bl_fail (r->o.err, EBUSY, "`%s` under `%s` is a mount point: not removed", name, r->o.top);
  struct scrub sc = { .o = r->o, .budget = 64 };
  int e = how == 2 ? bl_each_entry (fd, scrub_at, &sc) : bl_each_entry (fd, bl_remove_onefs_at, &r->o);
  if (e == BL_READDIR_FAILED)
    return bl_fail (r->o.err, errno, "read directory `%s` under `%s`", name, r->o.top);
  if (e < 0)
    return -1;
  if (fstat (fd, &st) < 0 || reset_attrs (fd, &st, r->mode) < 0)
    return bl_fail (r->o.err, errno, "reset `%s` under `%s`", name, r->o.top);
  return 0;
}

/* 'C': empties `path` but for the `keep` names (see recycle_entry) and renames it into the
   directory `spares` as "s-<inode>", unless that holds `max` spares already; when any of that
   fails, or there is no room, removes `path` as 'r' does.  */
static int
recycle_dir (const char *path, const char *spares, long max, const char *keep, size_t keep_len,
             mode_t mode, struct bl_error *err)
{
  struct stat st;
  char spare[PATH_MAX];
  int ok = 0;
  {
    cleanup_close int fd = open (path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
      return errno == ENOENT ? 0 : bl_remove_tree_onefs (path, err);
    cleanup_close int sfd = open (spares, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    long room = max;
    if (sfd >= 0 && max > 0 && bl_each_entry (sfd, count_one, &room) == 0 && fstat (fd, &st) == 0)
      {
        struct recycle r = { .o = { .dev = st.st_dev, .top = path, .err = NULL }, .keep = keep, .keep_len = keep_len, .mode = mode };
        ok = bl_each_entry (fd, recycle_entry, &r) == 0
             && snprintf (spare, sizeof spare, "%s/s-%llu", spares, (unsigned long long) st.st_ino) < (int) sizeof spare;
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
          /* data: the spare directory; for 'C' then NUL, the most spares it may hold (decimal),
             NUL and the names to keep, NUL-separated.  */
          char spares[PATH_MAX], num[24];
          const char *d = (const char *) buf + at;
          size_t sl = strnlen (d, dlen), nl = sl < dlen ? strnlen (d + sl + 1, dlen - sl - 1) : 0;
          if (sl >= sizeof spares || nl >= sizeof num)
            return bl_fail (err, ENAMETOOLONG, "file batch: spare dir for `%s`", path);
          memcpy (spares, d, sl);
          spares[sl] = '\0';
          if (kind == 'T')
            {
              if (take_spare (path, spares, (mode_t) mode, err) < 0)
                return -1;
            }
          else
            {
              char *end;
              memcpy (num, d + sl + 1, nl);
              num[nl] = '\0';
              long max = strtol (num, &end, 10);
              size_t kept_at = sl + 1 + nl + 1;
              if (sl == 0 || nl == 0 || *end != '\0' || max < 0)
                return bl_fail (err, EINVAL, "file batch: malformed recycle record for `%s`", path);
              if (recycle_dir (path, spares, max, d + kept_at, kept_at < dlen ? dlen - kept_at : 0, (mode_t) mode, err) < 0)
                return -1;
            }
        }
      else
        return bl_fail (err, EINVAL, "file batch: unknown kind %u for `%s`", kind, path);
      at += dlen;
    }
  return 0;
}
