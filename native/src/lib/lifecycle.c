/* start, kill, delete of an existing container, by its state directory.  */
#include "container.h"
#include "cgroup.h"
#include "fsutil.h"
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static const struct
{
  const char *name;
  int sig;
} signals[] = {
  { "HUP", SIGHUP },   { "INT", SIGINT },   { "QUIT", SIGQUIT }, { "KILL", SIGKILL },
  { "USR1", SIGUSR1 }, { "USR2", SIGUSR2 }, { "TERM", SIGTERM }, { "CONT", SIGCONT },
  { "STOP", SIGSTOP }, { "WINCH", SIGWINCH }, { "PIPE", SIGPIPE }, { "ALRM", SIGALRM },
};

int
bl_signal_from_name (const char *name)
{
  char *end;
  long n = strtol (name, &end, 10);
  if (*name && *end == '\0')
    return n > 0 && n < 65 ? (int) n : -1;
  if (strncasecmp (name, "SIG", 3) == 0)
    name += 3;
  for (size_t i = 0; i < sizeof signals / sizeof *signals; i++)
    if (strcasecmp (signals[i].name, name) == 0)
      return signals[i].sig;
  return -1;
}

int
bl_container_start (const char *root, const char *id, struct bl_error *err)
{
  struct bl_state st;
  char fifo[PATH_MAX + 16], b;
  cleanup_close int fd = -1;
  if (bl_state_load (root, id, &st, err) < 0)
    return -1;
  if (strcmp (st.status, "created") != 0)
    return bl_fail (err, 0, "cannot start container `%s` in status %s", id, st.status);
  snprintf (fifo, sizeof fifo, "%s/exec.fifo", st.dir);
  fd = open (fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    return bl_fail (err, errno, "open `%s`", fifo);
  /* The init's blocking open for writing completes now; wait for its byte.  */
  for (;;)
    {
      struct pollfd pfd = { fd, POLLIN, 0 };
      int r = poll (&pfd, 1, 1000);
      if (r > 0 && read (fd, &b, 1) == 1)
        break;
      if (r < 0 && errno != EINTR)
        return bl_fail (err, errno, "poll `%s`", fifo);
      if (bl_proc_start_time (st.pid) != st.pid_start)
        return bl_fail (err, 0, "container `%s` exited before it was started", id);
    }
  if (unlink (fifo) < 0)
    return bl_fail (err, errno, "unlink `%s`", fifo);
  return 0;
}

/* Sends `sig` to every process listed in the container's cgroup.  */
static int
kill_all (const struct bl_state *st, int sig, struct bl_error *err)
{
  char path[PATH_MAX + 64], buf[65536];
  const char *ctl = strcmp (st->cgroup_driver, "v2") == 0 ? "" : "/pids";
  snprintf (path, sizeof path, "/sys/fs/cgroup%s%s/cgroup.procs", ctl, st->cgroup_path);
  if (bl_read_file (path, buf, sizeof buf, err) < 0)
    return -1;
  for (char *s = buf, *e; *s; s = e)
    {
      long pid = strtol (s, &e, 10);
      if (e == s)
        break;
      if (pid > 0 && kill ((pid_t) pid, sig) < 0 && errno != ESRCH)
        return bl_fail (err, errno, "kill %ld", pid);
    }
  return 0;
}

int
bl_container_kill (const char *root, const char *id, int sig, bool all, struct bl_error *err)
{
  struct bl_state st;
  if (bl_state_load (root, id, &st, err) < 0)
    return -1;
  if (strcmp (st.status, "created") != 0 && strcmp (st.status, "running") != 0)
    return bl_fail (err, 0, "container `%s` is not running (status %s)", id, st.status);
  if (all)
    return kill_all (&st, sig, err);
  if (kill (st.pid, sig) < 0)
    return bl_fail (err, errno, "kill %d", st.pid);
  return 0;
}

/* True while `pid` runs (exists and is not a zombie).  */
static bool
alive (pid_t pid)
{
  char path[64], buf[512], *rp;
  struct bl_error ignored;
  snprintf (path, sizeof path, "/proc/%d/stat", pid);
  if (pid <= 0 || bl_read_file (path, buf, sizeof buf, &ignored) < 0 || !(rp = strrchr (buf, ')')))
    return false;
  return rp[1] == ' ' && rp[2] != 'Z' && rp[2] != 'X';
}

/* Waits (up to 10 s) for the monitor to record the exit (it writes exit.json only after
   reaping the init and draining its output): the init being gone is not enough, removing
   the state dir then races the monitor's write.  */
static void
wait_stopped (const char *root, const char *id, struct bl_state *st)
{
  for (int i = 0; i < 1000; i++)
    {
      if (bl_state_load (root, id, st, NULL) < 0 || st->has_exit
          || (strcmp (st->status, "stopped") == 0 && !alive (st->monitor_pid)))
        break;
      nanosleep (&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
    }
}

int
bl_container_delete (const char *root, const char *id, bool force, struct bl_error *err)
{
  struct bl_state st;
  const struct bl_cgroup_ops *cg;
  if (bl_state_load (root, id, &st, err) < 0)
    return (force && err->errnum == ENOENT) ? 0 : -1;
  if (strcmp (st.status, "stopped") != 0 || (!st.has_exit && alive (st.monitor_pid)))
    {
      if (!force && strcmp (st.status, "creating") != 0 && strcmp (st.status, "stopped") != 0)
        return bl_fail (err, 0, "cannot delete container `%s` in status %s (use --force)", id,
                        st.status);
      if (st.pid > 0 && strcmp (st.status, "stopped") != 0)
        kill (st.pid, SIGKILL); /* a stopped init's pid may belong to another process now */
      wait_stopped (root, id, &st);
    }
  cg = strcmp (st.cgroup_driver, "v2") == 0 ? &bl_cgroup_v2 : &bl_cgroup_v1;
  if (st.cgroup_path[0] && cg->destroy (st.cgroup_path, err) < 0)
    return bl_wrap (err, "delete `%s`", id);
  if (bl_remove_tree (st.dir, err) < 0)
    return bl_wrap (err, "delete `%s`", id);
  return 0;
}
