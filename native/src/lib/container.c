/* run, and what create shares with it (container-priv.h): prepare the state dir and cgroup,
   clone the init into its namespaces, record the state.  create and its monitor: create.c.  */
#include "container.h"
#include "container-priv.h"
#include "cgroup.h"
#include "fsutil.h"
#include "init.h"
#include "monitor.h"
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* Loads the spec and creates the state dir and cgroup; undoes what it did on failure.  */
int
bl_prepare (const struct bl_create_opts *o, struct prepared *p, struct bl_error *err)
{
  memset (p, 0, sizeof *p);
  if (realpath (o->bundle, p->bundle) == NULL)
    return bl_fail (err, errno, "bundle `%s`", o->bundle);
  if (bl_spec_load (p->bundle, &p->spec, err) < 0)
    return -1;
  if (!bl_spec_has_namespace (p->spec, CLONE_NEWNS, NULL))
    return bl_fail (err, 0, "invalid config.json: linux.namespaces: a new mount namespace is required");
  if (bl_state_dir (o->root, o->id, p->dir, sizeof p->dir, err) < 0
      || bl_cgroup_path (p->spec, o->id, p->cgpath, sizeof p->cgpath, err) < 0
      || bl_mkdir_p (o->root, 0711, err) < 0)
    return -1;
  if (mkdir (p->dir, 0711) < 0)
    return errno == EEXIST ? bl_fail (err, 0, "container `%s` already exists", o->id)
                           : bl_fail (err, errno, "mkdir `%s`", p->dir);
  p->cg = bl_cgroup_detect ();
  if (p->cg->create (p->cgpath, &p->spec->resources, err) < 0)
    {
      p->cg->destroy (p->cgpath, NULL);
      bl_remove_tree (p->dir, NULL);
      return -1;
    }
  return 0;
}

/* Removes what prepare made (after a failure, or after run).  */
void
bl_unprepare (struct prepared *p)
{
  if (p->cg)
    p->cg->destroy (p->cgpath, NULL);
  bl_remove_tree (p->dir, NULL);
  bl_spec_free (p->spec);
  p->spec = NULL;
}

/* Opens the namespaces to join; the pid namespace is entered here so the init is born in
   it.  Fills ctx->joined_*.  */
static int
open_joined (const struct bl_spec *s, struct bl_init_ctx *ctx, struct bl_error *err)
{
  int n = 0;
  for (size_t i = 0; i < s->n_namespaces; i++)
    {
      const struct bl_namespace *ns = &s->namespaces[i];
      int fd;
      if (ns->path == NULL)
        continue;
      fd = open (ns->path, O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        return bl_fail (err, errno, "open namespace `%s`", ns->path);
      if (ns->flag == CLONE_NEWPID)
        {
          int r = setns (fd, CLONE_NEWPID);
          close (fd);
          if (r < 0)
            return bl_fail (err, errno, "setns pid namespace `%s`", ns->path);
          continue;
        }
      ctx->joined_fds[n] = fd;
      ctx->joined_flags[n++] = ns->flag;
    }
  ctx->joined_fds[n] = -1;
  return 0;
}

/* Clone flags of the namespaces to create (the cgroup one is unshared later, once the
   init sits in its cgroup).  */
static uint64_t
clone_flags (const struct bl_spec *s)
{
  static const int kinds[] = { CLONE_NEWPID, CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC,
                               CLONE_NEWNET };
  uint64_t flags = 0;
  for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
    if (bl_spec_has_namespace (s, kinds[i], NULL))
      flags |= (uint64_t) kinds[i];
  return flags;
}

static int
cmp_int (const void *a, const void *b)
{
  return *(const int *) a - *(const int *) b;
}

/* Closes every fd above 2 except the init's own, so nothing of the caller (the create
   report pipe above all) stays open while the init waits on exec.fifo.  */
static void
close_others (const struct bl_init_ctx *ctx)
{
  int keep[BL_MAX_JOINED + 3], n = 0, from = 3;
  keep[n++] = ctx->sync_fd;
  if (ctx->fifo_fd >= 0)
    keep[n++] = ctx->fifo_fd;
  for (int i = 0; i < BL_MAX_JOINED && ctx->joined_fds[i] >= 0; i++)
    keep[n++] = ctx->joined_fds[i];
  qsort (keep, (size_t) n, sizeof *keep, cmp_int);
  for (int i = 0; i < n; i++)
    {
      if (keep[i] > from)
        syscall (SYS_close_range, from, keep[i] - 1, 0);
      from = keep[i] + 1 > from ? keep[i] + 1 : from;
    }
  syscall (SYS_close_range, from, ~0U, 0);
}

/* In the child: stdio for the container, signal mask back to normal, then init.  */
static _Noreturn void
child_main (struct bl_init_ctx *ctx, int out[2], int errp[2], const sigset_t *old)
{
  if (out[1] >= 0)
    {
      int null = open ("/dev/null", O_RDONLY | O_CLOEXEC);
      if (null < 0 || dup2 (null, 0) < 0 || dup2 (out[1], 1) < 0 || dup2 (errp[1], 2) < 0)
        _exit (1);
    }
  close_others (ctx);
  sigprocmask (SIG_SETMASK, old, NULL);
  bl_init_run (ctx);
}

/* Reads the init's "ready" (R) or error (E<msg>).  */
static int
await_ready (int sync_fd, pid_t child, struct bl_error *err)
{
  char msg[BL_ERROR_MAX + 2];
  ssize_t n = recv (sync_fd, msg, sizeof msg - 1, 0);
  if (n == 1 && msg[0] == 'R')
    return 0;
  waitpid (child, NULL, 0);
  if (n > 1 && msg[0] == 'E')
    {
      msg[n] = '\0';
      return bl_fail (err, 0, "%s", msg + 1);
    }
  return bl_fail (err, n < 0 ? errno : 0, "container init died before it was ready");
}

/* Opens the CRI log and the container's stdout/stderr pipes (when logging).  */
static int
open_output (const struct bl_create_opts *o, struct bl_monitor *m, int out[2], int errp[2],
             struct bl_error *err)
{
  if (o->log_path == NULL)
    return 0;
  m->log_fd = open (o->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (m->log_fd < 0)
    return bl_fail (err, errno, "open log `%s`", o->log_path);
  if (pipe2 (out, O_CLOEXEC) < 0 || pipe2 (errp, O_CLOEXEC) < 0)
    return bl_fail (err, errno, "pipe");
  return 0;
}

/* Monitor side after the clone: keep the read ends, place the init in its cgroup (v1),
   let it go and wait for "ready".  */
static int
after_clone (struct prepared *p, struct bl_init_ctx *ctx, int sync_fd, int out[2], int errp[2],
             bool in_cgroup, struct bl_monitor *m, struct bl_error *err)
{
  int r;
  close (ctx->sync_fd);
  for (int i = 0; ctx->joined_fds[i] >= 0; i++)
    close (ctx->joined_fds[i]);
  if (out[1] >= 0)
    {
      close (out[1]);
      close (errp[1]);
      fcntl (out[0], F_SETFL, O_NONBLOCK);
      fcntl (errp[0], F_SETFL, O_NONBLOCK);
    }
  m->out_fd = out[0];
  m->err_fd = errp[0];
  if (!in_cgroup && p->cg->enter (p->cgpath, m->child, err) < 0)
    {
      kill (m->child, SIGKILL);
      waitpid (m->child, NULL, 0);
      return close (sync_fd), -1;
    }
  if (send (sync_fd, "g", 1, MSG_NOSIGNAL) != 1)
    return close (sync_fd), bl_fail (err, errno, "sync with container init");
  r = await_ready (sync_fd, m->child, err);
  close (sync_fd);
  return r;
}

/* Clones the init and waits until it is ready.  The caller becomes its monitor.  */
int
bl_spawn (const struct bl_create_opts *o, struct prepared *p, int fifo_fd, struct bl_monitor *m,
          struct bl_error *err)
{
  struct bl_init_ctx ctx = { .spec = p->spec, .cg = p->cg, .cgpath = p->cgpath, .fifo_fd = fifo_fd };
  int sv[2], out[2] = { -1, -1 }, errp[2] = { -1, -1 };
  sigset_t set, old;
  cleanup_close int cgfd = -1;
  struct clone_args args = { .exit_signal = SIGCHLD };

  ctx.new_cgroupns = bl_spec_has_namespace (p->spec, CLONE_NEWCGROUP, NULL);
  if (open_joined (p->spec, &ctx, err) < 0 || open_output (o, m, out, errp, err) < 0)
    return -1;
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    return bl_fail (err, errno, "socketpair");
  bl_monitor_sigset (&set);
  sigprocmask (SIG_BLOCK, &set, &old);
  m->signal_fd = signalfd (-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (m->signal_fd < 0)
    return bl_fail (err, errno, "signalfd");
  cgfd = p->cg->open_for_clone (p->cgpath);
  args.flags = clone_flags (p->spec) | (cgfd >= 0 ? CLONE_INTO_CGROUP : 0);
  args.cgroup = cgfd >= 0 ? (uint64_t) cgfd : 0;
  ctx.sync_fd = sv[1];
  m->child = (pid_t) syscall (SYS_clone3, &args, sizeof args);
  if (m->child < 0)
    return bl_fail (err, errno, "clone3 into new namespaces");
  if (m->child == 0)
    {
      close (sv[0]);
      child_main (&ctx, out, errp, &old);
    }
  return after_clone (p, &ctx, sv[0], out, errp, cgfd >= 0, m, err);
}

/* Fills and writes state.json once the init is ready.  */
int
bl_record_state (const struct bl_create_opts *o, struct prepared *p, pid_t child, struct bl_error *err)
{
  struct bl_state *st = &p->st;
  snprintf (st->id, sizeof st->id, "%s", o->id);
  snprintf (st->dir, sizeof st->dir, "%s", p->dir);
  snprintf (st->bundle, sizeof st->bundle, "%s", p->bundle);
  snprintf (st->rootfs, sizeof st->rootfs, "%s", p->spec->root_path);
  snprintf (st->cgroup_path, sizeof st->cgroup_path, "%s", p->cgpath);
  snprintf (st->cgroup_driver, sizeof st->cgroup_driver, "%s", p->cg->name);
  snprintf (st->log_path, sizeof st->log_path, "%s", o->log_path ? o->log_path : "");
  bl_rfc3339_nano (st->created, sizeof st->created);
  st->pid = child;
  st->pid_start = bl_proc_start_time (child);
  st->monitor_pid = getpid ();
  return bl_state_save (st, err);
}

int
bl_container_run (const struct bl_create_opts *o, int *code, struct bl_error *err)
{
  struct prepared p;
  struct bl_monitor m = { .log_fd = -1, .out_fd = -1, .err_fd = -1 };
  int r;
  if (bl_prepare (o, &p, err) < 0)
    return bl_spec_free (p.spec), -1;
  m.state_dir = p.dir;
  m.cg = p.cg;
  m.cgpath = p.cgpath;
  r = bl_spawn (o, &p, -1, &m, err);
  if (r == 0)
    r = bl_record_state (o, &p, m.child, err);
  if (r == 0)
    r = bl_monitor_loop (&m, code, err);
  else if (m.child > 0)
    kill (m.child, SIGKILL), waitpid (m.child, NULL, 0);
  bl_unprepare (&p);
  return r;
}
