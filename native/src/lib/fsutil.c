/* File helpers: whole-file read/write, mkdir -p, atomic replace.  */
#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

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

int
bl_mkdir_p (const char *path, mode_t mode, struct bl_error *err)
{
  char buf[PATH_MAX];
  size_t len = strlen (path);
  if (len >= sizeof buf)
    return bl_fail (err, ENAMETOOLONG, "mkdir `%s`", path);
  memcpy (buf, path, len + 1);
  for (char *p = buf + 1; *p; p++)
    {
      if (*p != '/')
        continue;
      *p = '\0';
      if (mkdir (buf, mode) < 0 && errno != EEXIST)
        return bl_fail (err, errno, "mkdir `%s`", buf);
      *p = '/';
    }
  if (mkdir (buf, mode) < 0 && errno != EEXIST)
    return bl_fail (err, errno, "mkdir `%s`", buf);
  return 0;
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
