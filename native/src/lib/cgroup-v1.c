/* cgroup v1 (and hybrid) backend: one directory per controller hierarchy.  */
#include "cgroup.h"
#include "fsutil.h"
#include "rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *const controllers[] = { "memory", "cpu", "cpuacct", "pids", "devices" };
#define N_CONTROLLERS (sizeof controllers / sizeof *controllers)

/* Each controller's resolved mount root ('' when it is not mounted) and whether an earlier
   controller shares it (cpu,cpuacct), resolved once per process: realpath walks every path
   component with a readlink, and a container's create and delete asked 5 roots each against
   the ones before them (about 60 syscalls per container in a long-lived worker).  */
static char ctl_real[N_CONTROLLERS][PATH_MAX];
static bool ctl_dup[N_CONTROLLERS];
static pthread_once_t ctl_once = PTHREAD_ONCE_INIT;

static void
resolve_roots (void)
{
  for (size_t i = 0; i < N_CONTROLLERS; i++)
    {
      char root[PATH_MAX];
      snprintf (root, sizeof root, "/sys/fs/cgroup/%s", controllers[i]);
      if (realpath (root, ctl_real[i]) == NULL)
        {
          ctl_real[i][0] = '\0';
          continue;
        }
      for (size_t j = 0; j < i; j++)
        if (strcmp (ctl_real[j], ctl_real[i]) == 0)
          ctl_dup[i] = true;
    }
}

/* Path of `file` in the controller's cgroup; false when the controller is not mounted or is
   co-mounted with an earlier one (cpu,cpuacct) so callers skip duplicates.  */
static bool
ctl_path (size_t i, const char *path, const char *file, char *out, size_t len)
{
  pthread_once (&ctl_once, resolve_roots);
  if (ctl_real[i][0] == '\0' || ctl_dup[i])
    return false;
  snprintf (out, len, "%s%s%s%s", ctl_real[i], path, file ? "/" : "", file ? file : "");
  return true;
}

/* Writes one limit file of a controller.  */
static int
set (const char *ctl, const char *path, const char *file, const char *value, struct bl_error *err)
{
  char p[PATH_MAX];
  snprintf (p, sizeof p, "/sys/fs/cgroup/%s%s/%s", ctl, path, file);
  return bl_write_file (p, value, 0, err);
}

/* The devices every container gets on top of its spec rules, as runc allows them:
   mknod of any node (opening it is what the rules guard), null, zero, full, tty, urandom,
   random, every pts, ptmx.  */
static const char *const default_device_rules[] = {
  "c *:* m", "b *:* m", "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 5:0 rwm", "c 1:9 rwm", "c 1:8 rwm", "c 136:* rwm",
  "c 5:2 rwm",
};

/* Writes the spec's device rules in order, then the defaults (device cgroup v1).  */
static int
apply_devices (const char *path, const struct bl_resources *r, struct bl_error *err)
{
  char rule[64], major[24], minor[24];
  if (r->n_devices == 0)
    return 0; /* no rules: the cgroup inherits its parent's (allow-all) list */
  for (size_t i = 0; i < r->n_devices; i++)
    {
      const struct bl_device_rule *d = &r->devices[i];
      snprintf (major, sizeof major, d->major < 0 ? "*" : "%" PRId64, d->major);
      snprintf (minor, sizeof minor, d->minor < 0 ? "*" : "%" PRId64, d->minor);
      if (d->type == 'a')
        snprintf (rule, sizeof rule, "a");
      else
        snprintf (rule, sizeof rule, "%c %s:%s %s", d->type, major, minor, d->access);
      if (set ("devices", path, d->allow ? "devices.allow" : "devices.deny", rule, err) < 0)
        return -1;
    }
  for (size_t i = 0; i < sizeof default_device_rules / sizeof *default_device_rules; i++)
    if (set ("devices", path, "devices.allow", default_device_rules[i], err) < 0)
      return -1;
  return 0;
}

/* Applies linux.resources to the v1 files.  */
static int
apply (const char *path, const struct bl_resources *r, struct bl_error *err)
{
  char v[32];
  if (r->memory_limit > 0)
    {
      snprintf (v, sizeof v, "%" PRId64, r->memory_limit);
      if (set ("memory", path, "memory.limit_in_bytes", v, err) < 0)
        return -1;
      if (r->memory_swap > 0 && access ("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", F_OK) == 0)
        {
          snprintf (v, sizeof v, "%" PRId64, r->memory_swap);
          if (set ("memory", path, "memory.memsw.limit_in_bytes", v, err) < 0)
            return -1;
        }
    }
  if (r->cpu_shares > 0)
    {
      snprintf (v, sizeof v, "%" PRIu64, r->cpu_shares);
      if (set ("cpu", path, "cpu.shares", v, err) < 0)
        return -1;
    }
  if (r->cpu_period > 0)
    {
      snprintf (v, sizeof v, "%" PRIu64, r->cpu_period);
      if (set ("cpu", path, "cpu.cfs_period_us", v, err) < 0)
        return -1;
    }
  if (r->cpu_quota != -1 && r->cpu_quota != 0)
    {
      snprintf (v, sizeof v, "%" PRId64, r->cpu_quota);
      if (set ("cpu", path, "cpu.cfs_quota_us", v, err) < 0)
        return -1;
    }
  if (r->pids_limit != -1)
    {
      if (r->pids_limit > 0)
        snprintf (v, sizeof v, "%" PRId64, r->pids_limit);
      else
        snprintf (v, sizeof v, "max");
      if (set ("pids", path, "pids.max", v, err) < 0)
        return -1;
    }
  return 0;
}

static int
v1_create (const char *path, const struct bl_resources *r, struct bl_error *err)
{
  char p[PATH_MAX];
  for (size_t i = 0; i < N_CONTROLLERS; i++)
    if (ctl_path (i, path, NULL, p, sizeof p) && bl_mkdir_p (p, 0755, err) < 0)
      return bl_wrap (err, "create cgroup");
  if (apply (path, r, err) < 0 || apply_devices (path, r, err) < 0)
    return bl_wrap (err, "apply linux.resources");
  return 0;
}

static int
v1_enter (const char *path, pid_t pid, struct bl_error *err)
{
  char p[PATH_MAX], v[16];
  snprintf (v, sizeof v, "%d", pid);
  for (size_t i = 0; i < N_CONTROLLERS; i++)
    if (ctl_path (i, path, "cgroup.procs", p, sizeof p) && bl_write_file (p, v, 0, err) < 0)
      return bl_wrap (err, "join cgroup");
  return 0;
}

static int
v1_open_for_clone (const char *path)
{
  (void) path;
  return -1;
}

static bool
v1_oom_killed (const char *path)
{
  char p[PATH_MAX], buf[1024];
  const char *line;
  snprintf (p, sizeof p, "/sys/fs/cgroup/memory%s/memory.oom_control", path);
  if (bl_read_file (p, buf, sizeof buf, NULL) < 0)
    return false;
  line = strstr (buf, "oom_kill ");
  return line && strtoull (line + 9, NULL, 10) > 0;
}

/* rmdir that waits briefly for exiting tasks to leave (EBUSY).  */
static int
rmdir_retry (const char *p, struct bl_error *err)
{
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
v1_destroy (const char *path, struct bl_error *err)
{
  char p[PATH_MAX];
  int ret = 0;
  for (size_t i = 0; i < N_CONTROLLERS; i++)
    if (ctl_path (i, path, NULL, p, sizeof p) && rmdir_retry (p, err) < 0)
      ret = -1;
  return ret;
}

/* Binds the container's cgroup of one controller under the tmpfs at `dest`.  */
static int
bind_controller (size_t i, const char *path, int rootfd, const char *dest, unsigned long rdonly,
                 struct bl_error *err)
{
  char src[PATH_MAX], sub[PATH_MAX], target[64];
  cleanup_close int fd = -1;
  if (!ctl_path (i, path, NULL, src, sizeof src))
    return 0;
  snprintf (sub, sizeof sub, "%s/%s", dest, controllers[i]);
  fd = bl_open_in_root (rootfd, sub, true, false, err);
  if (fd < 0)
    return -1;
  snprintf (target, sizeof target, "/proc/self/fd/%d", fd);
  if (mount (src, target, NULL, MS_BIND, NULL) < 0)
    return bl_fail (err, errno, "bind `%s` on `%s`", src, sub);
  close (fd);
  fd = bl_open_in_root (rootfd, sub, false, false, err);
  if (fd < 0)
    return -1;
  snprintf (target, sizeof target, "/proc/self/fd/%d", fd);
  if (mount (NULL, target, NULL, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV | MS_NOEXEC | rdonly,
             NULL)
      < 0)
    return bl_fail (err, errno, "remount `%s`", sub);
  return 0;
}

/* A tmpfs with one bind mount per controller, as runc sets up /sys/fs/cgroup on v1.  */
static int
v1_mount_view (const char *path, int rootfd, const char *dest, bool ro, struct bl_error *err)
{
  char target[64];
  cleanup_close int fd = bl_open_in_root (rootfd, dest, true, false, err);
  if (fd < 0)
    return -1;
  snprintf (target, sizeof target, "/proc/self/fd/%d", fd);
  if (mount ("cgroup", target, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755") < 0)
    return bl_fail (err, errno, "mount tmpfs on `%s`", dest);
  for (size_t i = 0; i < N_CONTROLLERS; i++)
    if (bind_controller (i, path, rootfd, dest, ro ? MS_RDONLY : 0, err) < 0)
      return -1;
  close (fd);
  fd = bl_open_in_root (rootfd, dest, false, false, err);
  snprintf (target, sizeof target, "/proc/self/fd/%d", fd);
  if (ro && (fd < 0 || mount (NULL, target, NULL,
                              MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, "mode=755")
                           < 0))
    return bl_fail (err, errno, "remount `%s` read-only", dest);
  return 0;
}

const struct bl_cgroup_ops bl_cgroup_v1 = {
  .name = "v1",
  .create = v1_create,
  .enter = v1_enter,
  .open_for_clone = v1_open_for_clone,
  .oom_killed = v1_oom_killed,
  .destroy = v1_destroy,
  .mount_view = v1_mount_view,
};
