/* Container init: namespaces joined, hostname, rootfs, then exec.  */
#include "init.h"
#include "process.h"
#include "rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <unistd.h>

/* Reports a failure to the monitor (before ready) and exits.  */
static _Noreturn void
fail_to_monitor (int sync_fd, const struct bl_error *err)
{
  char msg[BL_ERROR_MAX + 1];
  int n = snprintf (msg, sizeof msg, "E%s", err->msg);
  if (send (sync_fd, msg, (size_t) n, MSG_NOSIGNAL) < 0)
    (void) !write (2, msg + 1, (size_t) n - 1);
  _exit (1);
}

/* Enters the namespaces given by path, the hostname, and the cgroup namespace.  */
static int
enter_namespaces (struct bl_init_ctx *ctx, struct bl_error *err)
{
  const struct bl_spec *s = ctx->spec;
  const char *joined;
  for (int i = 0; i < BL_MAX_JOINED && ctx->joined_fds[i] >= 0; i++)
    if (setns (ctx->joined_fds[i], ctx->joined_flags[i]) < 0)
      return bl_fail (err, errno, "setns into namespace (flag 0x%x)", ctx->joined_flags[i]);
  if (ctx->new_cgroupns && unshare (CLONE_NEWCGROUP) < 0)
    return bl_fail (err, errno, "unshare cgroup namespace");
  if (s->hostname && s->hostname[0])
    {
      if (!bl_spec_has_namespace (s, CLONE_NEWUTS, &joined))
        return bl_fail (err, 0, "hostname: needs a new uts namespace");
      if (sethostname (s->hostname, strlen (s->hostname)) < 0)
        return bl_fail (err, errno, "sethostname `%s`", s->hostname);
    }
  if (s->domainname && s->domainname[0]
      && setdomainname (s->domainname, strlen (s->domainname)) < 0)
    return bl_fail (err, errno, "setdomainname `%s`", s->domainname);
  return 0;
}

/* Blocks until `start` opens exec.fifo for reading.  */
static int
wait_for_start (int fifo_fd, struct bl_error *err)
{
  char path[64];
  int fd;
  snprintf (path, sizeof path, "/proc/self/fd/%d", fifo_fd);
  fd = open (path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return bl_fail (err, errno, "open exec.fifo");
  if (write (fd, "0", 1) != 1)
    return close (fd), bl_fail (err, errno, "write exec.fifo");
  close (fd);
  close (fifo_fd);
  return 0;
}

_Noreturn void
bl_init_run (struct bl_init_ctx *ctx)
{
  struct bl_error err = { 0 };
  char go, path[PATH_MAX];
  const struct bl_spec *s = ctx->spec;
  prctl (PR_SET_NAME, "bl-init", 0, 0, 0); /* until the exec names it */

  if (read (ctx->sync_fd, &go, 1) != 1)
    _exit (1); /* the monitor went away */
  if (enter_namespaces (ctx, &err) < 0)
    fail_to_monitor (ctx->sync_fd, &err);
  if (bl_rootfs_setup (s, ctx->cg, ctx->cgpath, &err) < 0)
    fail_to_monitor (ctx->sync_fd, &err);
  if (bl_process_lookup (&s->process, path, sizeof path, &err) < 0)
    fail_to_monitor (ctx->sync_fd, &err);
  if (send (ctx->sync_fd, "R", 1, MSG_NOSIGNAL) != 1)
    _exit (1);
  close (ctx->sync_fd);
  if (ctx->fifo_fd >= 0 && wait_for_start (ctx->fifo_fd, &err) < 0)
    goto fail;
  if (bl_process_finalize (&s->process, s->seccomp_default, &err) < 0)
    goto fail;
  bl_process_exec (&s->process, path, s->seccomp_default, &err);
fail:
  dprintf (2, "burstlet-runtime: %s\n", err.msg);
  _exit (127);
}
