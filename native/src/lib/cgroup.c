/* Picks the cgroup backend and derives a container's cgroup path.  */
#include "cgroup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <linux/magic.h>

const struct bl_cgroup_ops *
bl_cgroup_detect (void)
{
  struct statfs st;
  const char *force = getenv ("BURSTLET_CGROUP");
  if (force && strcmp (force, "v2") == 0)
    return &bl_cgroup_v2;
  if (force && strcmp (force, "v1") == 0)
    return &bl_cgroup_v1;
  if (statfs ("/sys/fs/cgroup", &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC)
    return &bl_cgroup_v2;
  return &bl_cgroup_v1;
}

int
bl_cgroup_path (const struct bl_spec *spec, const char *id, char *out, size_t len,
                struct bl_error *err)
{
  const char *p = spec->cgroups_path;
  if (p == NULL)
    {
      snprintf (out, len, "/burstlet/%s", id);
      return 0;
    }
  if (p[0] != '/' || strstr (p, "..") || strchr (p, ':'))
    return bl_fail (err, 0, "linux.cgroupsPath: expected an absolute path without `..`, got `%s`",
                    p);
  snprintf (out, len, "%s", p);
  return 0;
}
