/* What container.c (run) and create.c share: the prepared container and the steps from
   config.json to a recorded, waiting init.  Internal to libburstlet.  */
#ifndef BL_CONTAINER_PRIV_H
#define BL_CONTAINER_PRIV_H

#include <limits.h>
#include <sys/types.h>

#include "cgroup.h"
#include "container.h"
#include "monitor.h"
#include "state.h"

/* Everything create/run share between preparation, spawn and cleanup.  */
struct prepared
{
  struct bl_spec *spec;
  const struct bl_cgroup_ops *cg;
  char cgpath[PATH_MAX];
  char dir[PATH_MAX];
  char bundle[PATH_MAX];
  struct bl_state st;
};

/* Loads the spec and creates the state dir and cgroup; undoes what it did on failure.  */
int bl_prepare (const struct bl_create_opts *o, struct prepared *p, struct bl_error *err);

/* Removes what bl_prepare made (after a failure, or after run).  */
void bl_unprepare (struct prepared *p);

/* Clones the init and waits until it is ready (waiting on `fifo_fd` if >= 0); the caller
   becomes its monitor `m`.  */
int bl_spawn (const struct bl_create_opts *o, struct prepared *p, int fifo_fd, struct bl_monitor *m,
              struct bl_error *err);

/* Fills and writes state.json once the init is ready.  */
int bl_record_state (const struct bl_create_opts *o, struct prepared *p, pid_t child, struct bl_error *err);

#endif
