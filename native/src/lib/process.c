/* Process finalisation and execve.  */
#include "process.h"
#include "fsutil.h"
#include "seccomp.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Whether `path` is an executable regular file.  */
static bool
is_executable (const char *path)
{
  struct stat st;
  return stat (path, &st) == 0 && S_ISREG (st.st_mode) && access (path, X_OK) == 0;
}

int
bl_process_lookup (const struct bl_process *p, char *out, size_t len, struct bl_error *err)
{
  const char *name = p->args[0];
  const char *path = bl_env_get (p->env, "PATH");
  if (strchr (name, '/'))
    {
      snprintf (out, len, "%s", name);
      if (!is_executable (out) && !(name[0] != '/' && is_executable (name)))
        return bl_fail (err, errno ? errno : EACCES, "exec `%s`", name);
      return 0;
    }
  for (const char *s = path ? path : DEFAULT_PATH; *s;)
    {
      const char *e = strchrnul (s, ':');
      snprintf (out, len, "%.*s/%s", (int) (e - s), s, name);
      if (e > s && is_executable (out))
        return 0;
      s = *e ? e + 1 : e;
    }
  return bl_fail (err, 0, "exec `%s`: executable file not found in $PATH", name);
}

/* Sets the rlimits and the OOM score (both need privileges dropped later).  */
static int
apply_limits (const struct bl_process *p, struct bl_error *err)
{
  for (size_t i = 0; i < p->n_rlimits; i++)
    {
      struct rlimit rl = { .rlim_cur = p->rlimits[i].soft, .rlim_max = p->rlimits[i].hard };
      if (setrlimit (p->rlimits[i].resource, &rl) < 0)
        return bl_fail (err, errno, "setrlimit %d", p->rlimits[i].resource);
    }
  if (p->has_oom_score_adj)
    {
      char v[16];
      snprintf (v, sizeof v, "%d", p->oom_score_adj);
      if (bl_write_file ("/proc/self/oom_score_adj", v, 0, err) < 0)
        return bl_wrap (err, "process.oomScoreAdj");
    }
  return 0;
}

/* Drops every capability outside the bounding set.  */
static int
drop_bounding (uint64_t keep, struct bl_error *err)
{
  for (int cap = 0; cap < 64; cap++)
    {
      int r = prctl (PR_CAPBSET_READ, cap, 0, 0, 0);
      if (r < 0)
        break; /* past the kernel's last capability */
      if (r == 1 && !(keep & (1ULL << cap)) && prctl (PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
        return bl_fail (err, errno, "prctl(PR_CAPBSET_DROP, %d)", cap);
    }
  return 0;
}

/* capset of effective/permitted/inheritable, then the ambient set.  */
static int
set_caps (const struct bl_process *p, struct bl_error *err)
{
  struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
  struct __user_cap_data_struct data[2];
  const uint64_t *c = p->caps;
  for (int i = 0; i < 2; i++)
    {
      data[i].effective = (uint32_t) (c[BL_CAP_EFFECTIVE] >> (32 * i));
      data[i].permitted = (uint32_t) (c[BL_CAP_PERMITTED] >> (32 * i));
      data[i].inheritable = (uint32_t) (c[BL_CAP_INHERITABLE] >> (32 * i));
    }
  if (syscall (SYS_capset, &hdr, data) < 0)
    return bl_fail (err, errno, "capset");
  if (prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
    return bl_fail (err, errno, "prctl(PR_CAP_AMBIENT_CLEAR_ALL)");
  /* A cap missing from the inheritable set cannot be ambient; runc skips it too (EPERM).  */
  for (int cap = 0; cap < 64; cap++)
    if ((c[BL_CAP_AMBIENT] & (1ULL << cap))
        && prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0 && errno != EPERM)
      return bl_fail (err, errno, "prctl(PR_CAP_AMBIENT_RAISE, %d)", cap);
  return 0;
}

/* setgroups/setresgid/setresuid, keeping capabilities across the uid change.  */
static int
set_user (const struct bl_process *p, struct bl_error *err)
{
  gid_t groups[p->n_gids + 1];
  for (size_t i = 0; i < p->n_gids; i++)
    groups[i] = p->additional_gids[i];
  if (prctl (PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
    return bl_fail (err, errno, "prctl(PR_SET_KEEPCAPS)");
  if (setgroups (p->n_gids, groups) < 0)
    return bl_fail (err, errno, "setgroups");
  if (setresgid (p->gid, p->gid, p->gid) < 0)
    return bl_fail (err, errno, "setresgid(%u)", p->gid);
  if (setresuid (p->uid, p->uid, p->uid) < 0)
    return bl_fail (err, errno, "setresuid(%u)", p->uid);
  if (prctl (PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
    return bl_fail (err, errno, "prctl(PR_SET_KEEPCAPS)");
  return 0;
}

int
bl_process_finalize (const struct bl_process *p, bool seccomp, struct bl_error *err)
{
  /* Without no_new_privs the filter needs CAP_SYS_ADMIN, so it goes in before the drop.  */
  if (seccomp && !p->no_new_privileges && bl_seccomp_apply_default (false, err) < 0)
    return -1;
  if (apply_limits (p, err) < 0)
    return -1;
  if (p->has_caps && drop_bounding (p->caps[BL_CAP_BOUNDING], err) < 0)
    return -1;
  if (set_user (p, err) < 0)
    return -1;
  if (p->has_caps && set_caps (p, err) < 0)
    return -1;
  if (chdir (p->cwd) < 0)
    return bl_fail (err, errno, "chdir to process.cwd `%s`", p->cwd);
  return 0;
}

int
bl_process_exec (const struct bl_process *p, const char *path, bool seccomp, struct bl_error *err)
{
  if (p->no_new_privileges && prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return bl_fail (err, errno, "prctl(PR_SET_NO_NEW_PRIVS)");
  if (seccomp && p->no_new_privileges && bl_seccomp_apply_default (p->no_new_privileges, err) < 0)
    return -1;
  execve (path, p->args, p->env);
  return bl_fail (err, errno, "exec `%s`", path);
}
