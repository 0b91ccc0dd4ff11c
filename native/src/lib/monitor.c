/* Monitor loop: poll on the signalfd and the output pipes until the container is gone.  */
#include "monitor.h"
#include "cri-log.h"
#include "state.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

/* After the container's init exits, how long to wait for the rest of its output.  */
#define DRAIN_MS 200

void
bl_monitor_sigset (sigset_t *set)
{
  sigemptyset (set);
  sigaddset (set, SIGCHLD);
  sigaddset (set, SIGTERM);
  sigaddset (set, SIGINT);
  sigaddset (set, SIGHUP);
  sigaddset (set, SIGQUIT);
  sigaddset (set, SIGUSR1);
  sigaddset (set, SIGUSR2);
}

/* Moves available pipe data into the log; closes the fd at EOF.  */
static int
pump (struct bl_cri_log *log, int *fd, enum bl_stream s, struct bl_error *err)
{
  char buf[65536];
  ssize_t n = read (*fd, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return 0;
  if (n <= 0)
    {
      close (*fd);
      *fd = -1;
      return bl_cri_log_flush (log, s, err);
    }
  return bl_cri_log_feed (log, s, buf, (size_t) n, err);
}

/* Reaps children; returns true once the container's init has been reaped.  */
static bool
reap (struct bl_monitor *m, int *wstatus)
{
  bool done = false;
  int st;
  pid_t p;
  while ((p = waitpid (-1, &st, WNOHANG)) > 0)
    if (p == m->child)
      {
        *wstatus = st;
        done = true;
      }
  return done;
}

/* Handles pending signals: reaps on SIGCHLD, forwards the rest.  */
static bool
handle_signals (struct bl_monitor *m, int *wstatus)
{
  struct signalfd_siginfo si;
  bool exited = false;
  while (read (m->signal_fd, &si, sizeof si) == sizeof si)
    {
      if (si.ssi_signo == SIGCHLD)
        exited |= reap (m, wstatus);
      else
        kill (m->child, (int) si.ssi_signo);
    }
  return exited;
}

int
bl_monitor_loop (struct bl_monitor *m, int *code, struct bl_error *err)
{
  static struct bl_cri_log log;
  bool exited = false;
  int wstatus = 0, sig = 0;

  bl_cri_log_init (&log, m->log_fd);
  exited = reap (m, &wstatus); /* it may have exited before we looked */
  for (;;)
    {
      struct pollfd fds[3] = { { m->signal_fd, POLLIN, 0 }, { m->out_fd, POLLIN, 0 },
                               { m->err_fd, POLLIN, 0 } };
      if (exited && m->out_fd < 0 && m->err_fd < 0)
        break;
      int r = poll (fds, 3, exited ? DRAIN_MS : -1);
      if (r < 0 && errno != EINTR)
        return bl_fail (err, errno, "poll");
      if (r == 0)
        break; /* output still held open by a process outside our reach */
      if (fds[0].revents & POLLIN)
        exited |= handle_signals (m, &wstatus);
      if (fds[1].revents && pump (&log, &m->out_fd, BL_STDOUT, err) < 0)
        return -1;
      if (fds[2].revents && pump (&log, &m->err_fd, BL_STDERR, err) < 0)
        return -1;
    }
  if ((m->out_fd >= 0 && bl_cri_log_flush (&log, BL_STDOUT, err) < 0)
      || (m->err_fd >= 0 && bl_cri_log_flush (&log, BL_STDERR, err) < 0))
    return -1;
  if (WIFSIGNALED (wstatus))
    sig = WTERMSIG (wstatus);
  *code = sig ? 128 + sig : WEXITSTATUS (wstatus);
  return bl_state_save_exit (m->state_dir, *code, sig, m->cg->oom_killed (m->cgpath), err);
}
