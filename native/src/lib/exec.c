/* exec: run another process in a running container — same namespaces, cgroup and root.  */
#include "container.h"
#include "cgroup.h"
#include "process.h"
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const struct
{
  const char *name;
  int flag;
} ns_order[] = {
  /* mnt last: after it, paths resolve inside the container.  */
  { "ipc", CLONE_NEWIPC },   { "uts", CLONE_NEWUTS }, { "net", CLONE_NEWNET },
  { "cgroup", CLONE_NEWCGROUP }, { "mnt", CLONE_NEWNS },
};

/* Whether /proc/<pid>/ns/<name> differs from ours (joining our own is pointless).  */
static bool
differs (pid_t pid, const char *name)
{
  char a[64], b[64];
  struct stat sa, sb;
  snprintf (a, sizeof a, "/proc/%d/ns/%s", pid, name);
  snprintf (b, sizeof b, "/proc/self/ns/%s", name);
  return stat (a, &sa) == 0 && stat (b, &sb) == 0 && sa.st_ino != sb.st_ino;
}

/* setns into the namespace `name` of `pid`.  */
static int
join (pid_t pid, const char *name, int flag, struct bl_error *err)
{
  char path[64];
  cleanup_close int fd = -1;
  snprintf (path, sizeof path, "/proc/%d/ns/%s", pid, name);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return bl_fail (err, errno, "open `%s`", path);
  if (setns (fd, flag) < 0)
    return bl_fail (err, errno, "setns `%s`", path);
  return 0;
}

/* In the forked child: cgroup, namespaces, process setup, exec.  Reports errors on
   `report` (close-on-exec, so success closes it silently).  */
static _Noreturn void
exec_child (const struct bl_state *st, const struct bl_spec *spec, const struct bl_process *p,
            int report)
{
  struct bl_error err = { 0 };
  const struct bl_cgroup_ops *cg = strcmp (st->cgroup_driver, "v2") == 0 ? &bl_cgroup_v2
                                                                          : &bl_cgroup_v1;
  char path[PATH_MAX];
  if (cg->enter (st->cgroup_path, getpid (), &err) < 0)
    goto fail;
  for (size_t i = 0; i < sizeof ns_order / sizeof *ns_order; i++)
    if (differs (st->pid, ns_order[i].name)
        && join (st->pid, ns_order[i].name, ns_order[i].flag, &err) < 0)
      goto fail;
  if (bl_process_lookup (p, path, sizeof path, &err) < 0
      || bl_process_finalize (p, spec->seccomp_default, &err) < 0)
    goto fail;
  bl_process_exec (p, path, spec->seccomp_default, &err);
fail:
  (void) !write (report, err.msg, strlen (err.msg));
  _exit (127);
}

static volatile sig_atomic_t exec_child_pid;

/* Passes a signal on to the exec'd process, so killing the CLI stops it.  */
static void
forward_signal (int sig)
{
  if (exec_child_pid > 0)
    kill (exec_child_pid, sig);
}

/* Waits for the exec'd process, forwarding the usual stop signals meanwhile.  */
static int
wait_forwarding (pid_t child, int *wstatus)
{
  static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };
  struct sigaction sa = { .sa_handler = forward_signal };
  pid_t r;
  exec_child_pid = child;
  for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
    sigaction (sigs[i], &sa, NULL);
  do
    r = waitpid (child, wstatus, 0);
  while (r < 0 && errno == EINTR);
  return r < 0 ? -1 : 0;
}

int
bl_container_exec (const char *root, const char *id, const struct bl_process *p, int *code,
                   struct bl_error *err)
{
  struct bl_state st;
  struct bl_spec *spec = NULL;
  char msg[BL_ERROR_MAX];
  int report[2], wstatus;
  ssize_t n;
  pid_t child;

  if (bl_state_load (root, id, &st, err) < 0)
    return -1;
  if (strcmp (st.status, "running") != 0)
    return bl_fail (err, 0, "cannot exec in container `%s` in status %s", id, st.status);
  if (bl_spec_load (st.bundle, &spec, err) < 0)
    return -1;
  /* The pid namespace applies to children, so enter it before forking.  */
  if (differs (st.pid, "pid") && join (st.pid, "pid", CLONE_NEWPID, err) < 0)
    return bl_spec_free (spec), -1;
  if (pipe2 (report, O_CLOEXEC) < 0)
    return bl_spec_free (spec), bl_fail (err, errno, "pipe");
  child = fork ();
  if (child < 0)
    return bl_spec_free (spec), bl_fail (err, errno, "fork");
  if (child == 0)
    exec_child (&st, spec, p, report[1]);
  close (report[1]);
  bl_spec_free (spec);
  do
    n = read (report[0], msg, sizeof msg - 1);
  while (n < 0 && errno == EINTR);
  close (report[0]);
  if (wait_forwarding (child, &wstatus) < 0)
    return bl_fail (err, errno, "waitpid");
  if (n > 0)
    {
      msg[n] = '\0';
      return bl_fail (err, 0, "exec in `%s`: %s", id, msg);
    }
  *code = WIFSIGNALED (wstatus) ? 128 + WTERMSIG (wstatus) : WEXITSTATUS (wstatus);
  return 0;
}
