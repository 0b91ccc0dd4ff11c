/* Cgroups behind a small function-pointer table: cgroup-v1.c (v1 and hybrid hosts, such as
   this one) and cgroup-v2.c (unified hosts).  Paths are relative to the hierarchy root,
   e.g. "/burstlet/<id>".  */
#ifndef BL_CGROUP_H
#define BL_CGROUP_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "spec.h"

struct bl_cgroup_ops
{
  const char *name; /* "v1" or "v2" */
  /* Creates the cgroup (and parents) and applies the limits.  Fails if a limit cannot be
     applied; the caller then calls destroy.  */
  int (*create) (const char *path, const struct bl_resources *r, struct bl_error *err);
  /* Moves `pid` into the cgroup.  */
  int (*enter) (const char *path, pid_t pid, struct bl_error *err);
  /* An fd for clone3(CLONE_INTO_CGROUP), or -1 when the hierarchy cannot do that.  */
  int (*open_for_clone) (const char *path);
  /* Whether the OOM killer has killed a process in the cgroup.  */
  bool (*oom_killed) (const char *path);
  /* Removes the cgroup; its processes must be gone.  Missing cgroups are fine.  */
  int (*destroy) (const char *path, struct bl_error *err);
  /* Mounts the container's view of the hierarchy at `dest` inside the rootfs `rootfd`,
     read-only when `ro`.  */
  int (*mount_view) (const char *path, int rootfd, const char *dest, bool ro,
                     struct bl_error *err);
};

extern const struct bl_cgroup_ops bl_cgroup_v1;
extern const struct bl_cgroup_ops bl_cgroup_v2;

/* Chooses v2 when /sys/fs/cgroup is a cgroup2 mount, otherwise v1.  The environment
   variable BURSTLET_CGROUP=v1|v2 overrides (for tests).  */
const struct bl_cgroup_ops *bl_cgroup_detect (void);

/* The cgroup path for a container: spec cgroupsPath, or "/burstlet/<id>".  */
int bl_cgroup_path (const struct bl_spec *spec, const char *id, char *out, size_t len,
                    struct bl_error *err);

#endif
