/* The container's filesystem, set up by the container's init process inside its new mount
   namespace: spec mounts, /dev, pivot_root, sysctl, masked and read-only paths.  */
#ifndef BL_ROOTFS_H
#define BL_ROOTFS_H

#include "cgroup.h"
#include "error.h"
#include "spec.h"

/* Options of one mount entry turned into mount(2) flags and data.  */
struct bl_mount_flags
{
  unsigned long flags;       /* MS_* applied at mount time */
  unsigned long propagation; /* MS_PRIVATE/MS_SLAVE/... applied afterwards, 0 if none */
  bool bind, recursive;
  char data[1024];
};

/* Parses mount options ("ro", "nosuid", "rbind", "mode=755", ...).  */
int bl_mount_options (char **options, size_t n, struct bl_mount_flags *out, struct bl_error *err);

/* Opens (creating missing directories, and the last component as a file when `file`)
   `path` inside the directory `rootfd` with symlinks resolved inside that root.
   Returns an O_PATH fd.  */
int bl_open_in_root (int rootfd, const char *path, bool create, bool file, struct bl_error *err);

/* Performs spec->mounts under the (still host-visible) rootfs.  */
int bl_rootfs_mounts (const struct bl_spec *spec, int rootfd, const struct bl_cgroup_ops *cg,
                      const char *cgpath, struct bl_error *err);

/* The whole sequence, from propagation to pivot_root and the read-only remount.  */
int bl_rootfs_setup (const struct bl_spec *spec, const struct bl_cgroup_ops *cg,
                     const char *cgpath, struct bl_error *err);

#endif
