/* The conmon-style monitor: the container's parent for its whole life.  Internal.  */
#ifndef BL_MONITOR_H
#define BL_MONITOR_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "cgroup.h"
#include "error.h"

struct bl_monitor
{
  pid_t child;
  int signal_fd;      /* signalfd for SIGCHLD and the forwarded signals */
  int out_fd, err_fd; /* read ends of the container's stdout/stderr pipes, or -1 */
  int log_fd;         /* CRI log file, or -1 */
  const char *state_dir;
  const struct bl_cgroup_ops *cg;
  const char *cgpath;
};

/* Signals the monitor blocks and handles through its signalfd.  */
void bl_monitor_sigset (sigset_t *set);

/* Copies output to the log, forwards signals to the container, reaps it, drains its
   output, and writes exit.json.  *code gets the exit code (128+signal when killed).  */
int bl_monitor_loop (struct bl_monitor *m, int *code, struct bl_error *err);

#endif
