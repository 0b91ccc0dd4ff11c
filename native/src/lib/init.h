/* The container's init: runs in the child cloned into the new namespaces, sets up the
   root, waits on exec.fifo (create) and execs the process.  Internal to the library.  */
#ifndef BL_INIT_H
#define BL_INIT_H

#include "cgroup.h"
#include "spec.h"

#define BL_MAX_JOINED 8

struct bl_init_ctx
{
  const struct bl_spec *spec;
  const struct bl_cgroup_ops *cg;
  const char *cgpath;
  int sync_fd;              /* SOCK_SEQPACKET to the monitor */
  int fifo_fd;              /* O_PATH fd of exec.fifo, or -1 to exec at once (run) */
  int joined_fds[BL_MAX_JOINED]; /* namespaces to setns into (not pid), -1 terminated */
  int joined_flags[BL_MAX_JOINED];
  bool new_cgroupns;
};

/* Never returns: execs the container process or exits 1/127 after reporting the error on
   sync_fd (before "ready") or on stderr (after).  */
_Noreturn void bl_init_run (struct bl_init_ctx *ctx);

#endif
