/* cgroup v2 backend: one unified hierarchy; processes are spawned straight into the
   cgroup with clone3(CLONE_INTO_CGROUP).  */
#include "cgroup.h"
#include "fsutil.h"
#include "rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <time.h>
#include <unistd.h>

#define ROOT "/sys/fs/cgroup"

/* Enables the controllers we use in every ancestor's subtree_control (best effort: a
   controller the host lacks is skipped, and then setting its limit fails loudly).  */
static void
enable_controllers (const char *path)
{
  char buf[PATH_MAX], p[PATH_MAX];
  snprintf (buf, sizeof buf, "%s", path);
  for (char *s = buf;; s++)
    {
      if (*s != '/' && *s != '\0')
        continue;
      char saved = *s;
      *s = '\0';
      snprintf (p, sizeof p, ROOT "%s/cgroup.subtree_control", buf);
      *s = saved;
      if (saved == '\0')
        break;
      for (const char *c = "+memory\0+cpu\0+pids\0"; *c; c += strlen (c) + 1)
        bl_write_file (p, c, 0, NULL);
    }
}

/* Writes one interface file of the container's cgroup.  */
static int
set (const char *path, const char *file, const char *value, struct bl_error *err)
{
  char p[PATH_MAX];
  snprintf (p, sizeof p, ROOT "%s/%s", path, file);
  return bl_write_file (p, value, 0, err);
}

/* Converts v1 cpu shares to a v2 weight, as runc and crun do.  */
static uint64_t
shares_to_weight (uint64_t shares)
{
  return shares == 0 ? 0 : 1 + ((shares - 2) * 9999) / 262142;
}

static int
v2_apply (const char *path, const struct bl_resources *r, struct bl_error *err)
{
  char v[64];
  if (r->memory_limit > 0)
    {
      snprintf (v, sizeof v, "%" PRId64, r->memory_limit);
      if (set (path, "memory.max", v, err) < 0)
        return -1;
      if (r->memory_swap > 0 && r->memory_swap >= r->memory_limit)
        {
          snprintf (v, sizeof v, "%" PRId64, r->memory_swap - r->memory_limit);
          if (set (path, "memory.swap.max", v, err) < 0)
            return -1;
        }
    }
  if (r->cpu_shares > 0)
    {
      snprintf (v, sizeof v, "%" PRIu64, shares_to_weight (r->cpu_shares));
      if (set (path, "cpu.weight", v, err) < 0)
        return -1;
    }
  if ((r->cpu_quota != -1 && r->cpu_quota != 0) || r->cpu_period > 0)
    {
      uint64_t period = r->cpu_period ? r->cpu_period : 100000;
      if (r->cpu_quota > 0)
        snprintf (v, sizeof v, "%" PRId64 " %" PRIu64, r->cpu_quota, period);
      else
        snprintf (v, sizeof v, "max %" PRIu64, period);
      if (set (path, "cpu.max", v, err) < 0)
        return -1;
    }
  if (r->pids_limit != -1)
    {
      if (r->pids_limit > 0)
        snprintf (v, sizeof v, "%" PRId64, r->pids_limit);
      else
        snprintf (v, sizeof v, "max");
      if (set (path, "pids.max", v, err) < 0)
        return -1;
    }
  return 0;
}

static int
v2_create (const char *path, const struct bl_resources *r, struct bl_error *err)
{
  char p[PATH_MAX];
  snprintf (p, sizeof p, ROOT "%s", path);
  if (bl_mkdir_p (p, 0755, err) < 0)
    return bl_wrap (err, "create cgroup");
  enable_controllers (path);
  if (v2_apply (path, r, err) < 0)
    return bl_wrap (err, "apply linux.resources");
  return 0;
}

static int
v2_enter (const char *path, pid_t pid, struct bl_error *err)
{
  char v[16];
  snprintf (v, sizeof v, "%d", pid);
  if (set (path, "cgroup.procs", v, err) < 0)
    return bl_wrap (err, "join cgroup");
  return 0;
}

static int
v2_open_for_clone (const char *path)
{
  char p[PATH_MAX];
  snprintf (p, sizeof p, ROOT "%s", path);
  return open (p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static bool
v2_oom_killed (const char *path)
{
  char p[PATH_MAX], buf[1024];
  const char *line;
  snprintf (p, sizeof p, ROOT "%s/memory.events", path);
  if (bl_read_file (p, buf, sizeof buf, NULL) < 0)
    return false;
  line = strstr (buf, "oom_kill ");
  return line && strtoull (line + 9, NULL, 10) > 0;
}

static int
v2_destroy (const char *path, struct bl_error *err)
{
  char p[PATH_MAX];
  snprintf (p, sizeof p, ROOT "%s", path);
  for (int tries = 0;; tries++)
    {
      if (rmdir (p) == 0 || errno == ENOENT)
        return 0;
      if (errno != EBUSY || tries >= 200)
        return bl_fail (err, errno, "rmdir `%s`", p);
      nanosleep (&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
    }
}

static int
v2_mount_view (const char *path, int rootfd, const char *dest, bool ro, struct bl_error *err)
{
  unsigned long flags = MS_NOSUID | MS_NODEV | MS_NOEXEC | (ro ? MS_RDONLY : 0);
  char target[64];
  cleanup_close int fd = bl_open_in_root (rootfd, dest, true, false, err);
  (void) path; /* the cgroup namespace scopes the view */
  if (fd < 0)
    return -1;
  snprintf (target, sizeof target, "/proc/self/fd/%d", fd);
  if (mount ("cgroup2", target, "cgroup2", flags, NULL) < 0)
    return bl_fail (err, errno, "mount cgroup2 on `%s`", dest);
  return 0;
}

const struct bl_cgroup_ops bl_cgroup_v2 = {
  .name = "v2",
  .create = v2_create,
  .enter = v2_enter,
  .open_for_clone = v2_open_for_clone,
  .oom_killed = v2_oom_killed,
  .destroy = v2_destroy,
  .mount_view = v2_mount_view,
};
