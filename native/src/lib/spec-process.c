/* Parsing of the OCI "process" object: user, args, env, cwd, capabilities, rlimits.  */
#include "spec.h"
#include "spec-fields.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static const char *const cap_names[] = {
  "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
  "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
  "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK",
  "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
  "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE",
  "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE",
  "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
  "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
  "CAP_CHECKPOINT_RESTORE",
};

static const struct
{
  const char *name;
  int resource;
} rlimit_names[] = {
  { "RLIMIT_AS", RLIMIT_AS },           { "RLIMIT_CORE", RLIMIT_CORE },
  { "RLIMIT_CPU", RLIMIT_CPU },         { "RLIMIT_DATA", RLIMIT_DATA },
  { "RLIMIT_FSIZE", RLIMIT_FSIZE },     { "RLIMIT_LOCKS", RLIMIT_LOCKS },
  { "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK }, { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
  { "RLIMIT_NICE", RLIMIT_NICE },       { "RLIMIT_NOFILE", RLIMIT_NOFILE },
  { "RLIMIT_NPROC", RLIMIT_NPROC },     { "RLIMIT_RSS", RLIMIT_RSS },
  { "RLIMIT_RTPRIO", RLIMIT_RTPRIO },   { "RLIMIT_RTTIME", RLIMIT_RTTIME },
  { "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING }, { "RLIMIT_STACK", RLIMIT_STACK },
};

int
bl_cap_from_name (const char *name)
{
  for (size_t i = 0; i < sizeof cap_names / sizeof *cap_names; i++)
    if (strcmp (cap_names[i], name) == 0)
      return (int) i;
  return -1;
}

/* Reads one capability list into a bit mask.  */
static int
parse_cap_set (const struct bl_json *caps, const char *set, uint64_t *mask, struct bl_error *err)
{
  char **names = NULL;
  int ret = 0;
  if (bl_field_strv (caps, "process.capabilities", set, false, &names, NULL, err) < 0)
    return -1;
  for (char **p = names; p && *p; p++)
    {
      int cap = bl_cap_from_name (*p);
      if (cap < 0)
        {
          ret = bl_fail (err, 0, "process.capabilities.%s: unknown capability `%s`", set, *p);
          break;
        }
      *mask |= 1ULL << cap;
    }
  bl_strv_free (names);
  return ret;
}

/* Reads process.capabilities.  */
static int
parse_caps (const struct bl_json *proc, struct bl_process *out, struct bl_error *err)
{
  static const char *sets[BL_CAP_SETS] = { "bounding", "effective", "inheritable", "permitted",
                                           "ambient" };
  const struct bl_json *caps;
  if (bl_field_typed (proc, "process", "capabilities", BL_JSON_OBJECT, false, &caps, err) < 0)
    return -1;
  if (caps == NULL)
    return 0; /* left untouched, as runc does */
  out->has_caps = true;
  for (int i = 0; i < BL_CAP_SETS; i++)
    if (parse_cap_set (caps, sets[i], &out->caps[i], err) < 0)
      return -1;
  return 0;
}

/* Reads process.rlimits.  */
static int
parse_rlimits (const struct bl_json *proc, struct bl_process *out, struct bl_error *err)
{
  const struct bl_json *arr;
  if (bl_field_typed (proc, "process", "rlimits", BL_JSON_ARRAY, false, &arr, err) < 0)
    return -1;
  if (arr == NULL)
    return 0;
  out->rlimits = calloc (arr->n + 1, sizeof *out->rlimits);
  if (out->rlimits == NULL)
    return bl_fail (err, ENOMEM, "calloc");
  for (size_t i = 0; i < arr->n; i++)
    {
      char prefix[64];
      cleanup_free char *type = NULL;
      struct bl_rlimit *rl = &out->rlimits[i];
      size_t k;
      snprintf (prefix, sizeof prefix, "process.rlimits[%zu]", i);
      if (bl_field_str (arr->items[i], prefix, "type", true, &type, err) < 0
          || bl_field_u64 (arr->items[i], prefix, "soft", true, &rl->soft, err) < 0
          || bl_field_u64 (arr->items[i], prefix, "hard", true, &rl->hard, err) < 0)
        return -1;
      for (k = 0; k < sizeof rlimit_names / sizeof *rlimit_names; k++)
        if (strcmp (rlimit_names[k].name, type) == 0)
          break;
      if (k == sizeof rlimit_names / sizeof *rlimit_names)
        return bl_fail (err, 0, "%s.type: unknown rlimit `%s`", prefix, type);
      rl->resource = rlimit_names[k].resource;
      out->n_rlimits++;
    }
  return 0;
}

/* Reads process.user.  */
static int
parse_user (const struct bl_json *proc, const char *field, struct bl_process *out,
            struct bl_error *err)
{
  const struct bl_json *user, *gids;
  uint64_t uid = 0, gid = 0;
  char prefix[64];
  snprintf (prefix, sizeof prefix, "%s.user", field);
  if (bl_field_typed (proc, field, "user", BL_JSON_OBJECT, true, &user, err) < 0
      || bl_field_u64 (user, prefix, "uid", true, &uid, err) < 0
      || bl_field_u64 (user, prefix, "gid", true, &gid, err) < 0
      || bl_field_typed (user, prefix, "additionalGids", BL_JSON_ARRAY, false, &gids, err) < 0)
    return -1;
  if (uid > UINT32_MAX || gid > UINT32_MAX)
    return bl_fail (err, 0, "%s: uid/gid out of range", prefix);
  out->uid = (uint32_t) uid;
  out->gid = (uint32_t) gid;
  if (gids == NULL)
    return 0;
  out->additional_gids = calloc (gids->n + 1, sizeof (uint32_t));
  if (out->additional_gids == NULL)
    return bl_fail (err, ENOMEM, "calloc");
  for (size_t i = 0; i < gids->n; i++)
    {
      char *end;
      unsigned long long g;
      if (gids->items[i]->type != BL_JSON_NUMBER)
        return bl_fail (err, 0, "%s.additionalGids[%zu]: expected number", prefix, i);
      g = strtoull (gids->items[i]->str, &end, 10);
      if (*end || g > UINT32_MAX || gids->items[i]->str[0] == '-')
        return bl_fail (err, 0, "%s.additionalGids[%zu]: out of range", prefix, i);
      out->additional_gids[out->n_gids++] = (uint32_t) g;
    }
  return 0;
}

int
bl_spec_parse_process (const struct bl_json *proc, const char *field, struct bl_process *out,
                       struct bl_error *err)
{
  int64_t oom = 0;
  memset (out, 0, sizeof *out);
  if (proc == NULL || proc->type != BL_JSON_OBJECT)
    return bl_fail (err, 0, "%s: expected object", field);
  if (bl_field_bool (proc, field, "terminal", &out->terminal, err) < 0
      || parse_user (proc, field, out, err) < 0
      || bl_field_strv (proc, field, "args", true, &out->args, NULL, err) < 0
      || bl_field_strv (proc, field, "env", false, &out->env, NULL, err) < 0
      || bl_field_str (proc, field, "cwd", true, &out->cwd, err) < 0
      || bl_field_bool (proc, field, "noNewPrivileges", &out->no_new_privileges, err) < 0
      || parse_caps (proc, out, err) < 0 || parse_rlimits (proc, out, err) < 0)
    return -1;
  if (out->args[0] == NULL)
    return bl_fail (err, 0, "%s.args: must not be empty", field);
  if (out->cwd[0] != '/')
    return bl_fail (err, 0, "%s.cwd: must be an absolute path, got `%s`", field, out->cwd);
  if (out->terminal)
    return bl_fail (err, 0, "%s.terminal: true is not supported by burstlet", field);
  if (out->env == NULL && (out->env = calloc (1, sizeof (char *))) == NULL)
    return bl_fail (err, ENOMEM, "calloc");
  if (bl_json_get (proc, "oomScoreAdj"))
    {
      if (bl_field_i64 (proc, field, "oomScoreAdj", &oom, err) < 0)
        return -1;
      if (oom < -1000 || oom > 1000)
        return bl_fail (err, 0, "%s.oomScoreAdj: must be within [-1000, 1000]", field);
      out->has_oom_score_adj = true;
      out->oom_score_adj = (int) oom;
    }
  return 0;
}

void
bl_process_free (struct bl_process *p)
{
  free (p->additional_gids);
  bl_strv_free (p->args);
  bl_strv_free (p->env);
  free (p->cwd);
  free (p->rlimits);
  memset (p, 0, sizeof *p);
}

const char *
bl_env_get (char **env, const char *key)
{
  size_t len = strlen (key);
  for (char **e = env; e && *e; e++)
    if (strncmp (*e, key, len) == 0 && (*e)[len] == '=')
      return *e + len + 1;
  return NULL;
}
