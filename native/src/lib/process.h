/* The last steps of a container process before execve: rlimits, OOM score, user and
   groups, capabilities, cwd, no_new_privs, seccomp.  Runs in the container's init (or the
   exec'd process) after its namespaces and root are in place.  */
#ifndef BL_PROCESS_H
#define BL_PROCESS_H

#include <stdbool.h>

#include "error.h"
#include "spec.h"

/* Finds args[0] on the process's PATH (as seen inside the root); `out` receives the path.
   Fails with "executable file not found" before anything is started.  */
int bl_process_lookup (const struct bl_process *p, char *out, size_t len, struct bl_error *err);

/* Applies rlimits, oomScoreAdj, groups/uid/gid and capabilities, then chdir(cwd).  With
   `seccomp` and no noNewPrivileges, the filter is installed first (it needs privileges).  */
int bl_process_finalize (const struct bl_process *p, bool seccomp, struct bl_error *err);

/* no_new_privs, the seccomp filter (when `seccomp` and noNewPrivileges), then execve.  Returns only on error.  */
int bl_process_exec (const struct bl_process *p, const char *path, bool seccomp,
                     struct bl_error *err);

#endif
