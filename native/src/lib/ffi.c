/* The koffi-facing calls: mounts of snapshots and pidfd signalling.  */
#include "ffi.h"
#include "error.h"
#include "container.h"
#include "fsutil.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Copies an error into the caller's buffer and returns -errno.  */
static int
report (int errnum, char *msg, size_t msg_len, const char *fmt, const char *a)
{
  struct bl_error err;
  bl_fail (&err, errnum, fmt, a);
  if (msg && msg_len)
    snprintf (msg, msg_len, "%s", err.msg);
  return -errnum;
}

/* Copies a library error into the caller's buffer.  */
static int
report_err (const struct bl_error *err, char *msg, size_t msg_len)
{
  if (msg && msg_len)
    snprintf (msg, msg_len, "%s", err->msg);
  return err->errnum > 0 ? -err->errnum : -EINVAL;
}

int
bl_mount_overlay (const char *lower, const char *upper, const char *work, const char *target,
                  char *msg, size_t msg_len)
{
  char data[8192];
  int n;
  if (upper && work)
    n = snprintf (data, sizeof data, "lowerdir=%s,upperdir=%s,workdir=%s", lower, upper, work);
  else
    n = snprintf (data, sizeof data, "lowerdir=%s", lower);
  if (n < 0 || (size_t) n >= sizeof data)
    return report (E2BIG, msg, msg_len, "overlay options for `%s` too long", target);
  if (mount ("overlay", target, "overlay", upper ? 0 : MS_RDONLY, data) < 0)
    return report (errno, msg, msg_len, "mount overlay on `%s`", target);
  return 0;
}

int
bl_mount_bind (const char *source, const char *target, int readonly, char *msg, size_t msg_len)
{
  if (mount (source, target, NULL, MS_BIND | MS_REC, NULL) < 0)
    return report (errno, msg, msg_len, "bind mount on `%s`", target);
  if (readonly && mount (NULL, target, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) < 0)
    {
      int e = errno;
      umount2 (target, MNT_DETACH);
      return report (e, msg, msg_len, "remount `%s` read-only", target);
    }
  return 0;
}

int
bl_mount_fs (const char *type, const char *source, const char *target, unsigned long flags,
             const char *data, char *msg, size_t msg_len)
{
  char what[PATH_MAX + 64];
  if (mount (source, target, type, flags, data) < 0)
    {
      int e = errno;
      snprintf (what, sizeof what, "mount %s on `%s`", type ? type : "(none)", target);
      return report (e, msg, msg_len, "%s", what);
    }
  return 0;
}

int
bl_unmount (const char *target, int detach, char *msg, size_t msg_len)
{
  if (umount2 (target, detach ? MNT_DETACH : 0) < 0)
    return report (errno, msg, msg_len, "unmount `%s`", target);
  return 0;
}

int
bl_unmount_all (const char *target, char *msg, size_t msg_len)
{
  struct bl_error err = { 0 };
  return bl_unmount_all_at (target, &err) < 0 ? report_err (&err, msg, msg_len) : 0;
}

int
bl_pidfd_open (int pid, char *msg, size_t msg_len)
{
  char p[16];
  int fd = (int) syscall (SYS_pidfd_open, pid, 0);
  snprintf (p, sizeof p, "%d", pid);
  return fd >= 0 ? fd : report (errno, msg, msg_len, "pidfd_open %s", p);
}

int
bl_pidfd_signal (int pidfd, int sig, char *msg, size_t msg_len)
{
  if (syscall (SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0)
    return report (errno, msg, msg_len, "pidfd_send_signal%s", "");
  return 0;
}

int
bl_ffi_start (const char *root, const char *id, char *msg, size_t msg_len)
{
  struct bl_error err = { 0 };
  return bl_container_start (root, id, &err) < 0 ? report_err (&err, msg, msg_len) : 0;
}

int
bl_ffi_kill (const char *root, const char *id, const char *sig, int all, char *msg,
             size_t msg_len)
{
  struct bl_error err = { 0 };
  int s = bl_signal_from_name (sig);
  if (s < 0)
    return report (EINVAL, msg, msg_len, "unknown signal `%s`", sig);
  return bl_container_kill (root, id, s, all != 0, &err) < 0 ? report_err (&err, msg, msg_len) : 0;
}

int
bl_ffi_delete (const char *root, const char *id, int force, char *msg, size_t msg_len)
{
  struct bl_error err = { 0 };
  return bl_container_delete (root, id, force != 0, &err) < 0 ? report_err (&err, msg, msg_len)
                                                              : 0;
}

int
bl_ffi_remove_tree (const char *path, char *msg, size_t msg_len)
{
  struct bl_error err = { 0 };
  return bl_remove_tree_onefs (path, &err) < 0 ? report_err (&err, msg, msg_len) : 0;
}

int
bl_ffi_rmdir_tree (const char *path)
{
  return bl_rmdir_tree (path);
}

int
bl_ffi_write_tree (const unsigned char *buf, size_t len, char *msg, size_t msg_len)
{
  struct bl_error err = { 0 };
  return bl_write_tree (buf, len, &err) < 0 ? report_err (&err, msg, msg_len) : 0;
}
