/* Loading config.json: root, hostname, mounts, namespaces, masked/readonly paths, sysctl,
   cgroupsPath and resources.  The process object is in spec-process.c.  */
#include "spec.h"
#include "spec-fields.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct
{
  const char *name;
  int flag;
} ns_types[] = {
  { "pid", CLONE_NEWPID },     { "network", CLONE_NEWNET }, { "mount", CLONE_NEWNS },
  { "ipc", CLONE_NEWIPC },     { "uts", CLONE_NEWUTS },     { "cgroup", CLONE_NEWCGROUP },
  { "user", CLONE_NEWUSER },
};

/* Reads linux.namespaces.  */
static int
parse_namespaces (const struct bl_json *lx, struct bl_spec *s, struct bl_error *err)
{
  const struct bl_json *arr;
  if (bl_field_typed (lx, "linux", "namespaces", BL_JSON_ARRAY, false, &arr, err) < 0)
    return -1;
  if (arr == NULL)
    return 0;
  s->namespaces = calloc (arr->n + 1, sizeof *s->namespaces);
  if (s->namespaces == NULL)
    return bl_fail (err, ENOMEM, "calloc");
  for (size_t i = 0; i < arr->n; i++)
    {
      char prefix[64];
      cleanup_free char *type = NULL;
      struct bl_namespace *ns = &s->namespaces[i];
      size_t k;
      snprintf (prefix, sizeof prefix, "linux.namespaces[%zu]", i);
      if (bl_field_str (arr->items[i], prefix, "type", true, &type, err) < 0
          || bl_field_str (arr->items[i], prefix, "path", false, &ns->path, err) < 0)
        return -1;
      s->n_namespaces++;
      for (k = 0; k < sizeof ns_types / sizeof *ns_types; k++)
        if (strcmp (ns_types[k].name, type) == 0)
          break;
      if (k == sizeof ns_types / sizeof *ns_types)
        return bl_fail (err, 0, "%s.type: unknown namespace type `%s`", prefix, type);
      if (ns_types[k].flag == CLONE_NEWUSER)
        return bl_fail (err, 0, "%s.type: user namespaces are not supported by burstlet", prefix);
      ns->flag = ns_types[k].flag;
      for (size_t j = 0; j < i; j++)
        if (s->namespaces[j].flag == ns->flag)
          return bl_fail (err, 0, "%s.type: duplicate namespace `%s`", prefix, type);
    }
  return 0;
}

/* Reads the mounts array.  */
static int
parse_mounts (const struct bl_json *root, struct bl_spec *s, struct bl_error *err)
{
  const struct bl_json *arr;
  if (bl_field_typed (root, "", "mounts", BL_JSON_ARRAY, false, &arr, err) < 0)
    return -1;
  if (arr == NULL)
    return 0;
  s->mounts = calloc (arr->n + 1, sizeof *s->mounts);
  if (s->mounts == NULL)
    return bl_fail (err, ENOMEM, "calloc");
  for (size_t i = 0; i < arr->n; i++)
    {
      char prefix[64];
      struct bl_mount *m = &s->mounts[i];
      snprintf (prefix, sizeof prefix, "mounts[%zu]", i);
      if (arr->items[i]->type != BL_JSON_OBJECT)
        return bl_fail (err, 0, "%s: expected object", prefix);
      s->n_mounts++;
      if (bl_field_str (arr->items[i], prefix, "destination", true, &m->destination, err) < 0
          || bl_field_str (arr->items[i], prefix, "type", false, &m->type, err) < 0
          || bl_field_str (arr->items[i], prefix, "source", false, &m->source, err) < 0
          || bl_field_strv (arr->items[i], prefix, "options", false, &m->options, &m->n_options,
                            err)
                 < 0)
        return -1;
      if (m->destination[0] != '/')
        return bl_fail (err, 0, "%s.destination: must be absolute, got `%s`", prefix,
                        m->destination);
    }
  return 0;
}

/* Reads linux.sysctl (an object of strings).  */
static int
parse_sysctl (const struct bl_json *lx, struct bl_spec *s, struct bl_error *err)
{
  const struct bl_json *obj;
  if (bl_field_typed (lx, "linux", "sysctl", BL_JSON_OBJECT, false, &obj, err) < 0)
    return -1;
  if (obj == NULL)
    return 0;
  s->sysctls = calloc (obj->n + 1, sizeof *s->sysctls);
  if (s->sysctls == NULL)
    return bl_fail (err, ENOMEM, "calloc");
  for (size_t i = 0; i < obj->n; i++)
    {
      if (obj->items[i]->type != BL_JSON_STRING)
        return bl_fail (err, 0, "linux.sysctl.%s: expected string", obj->keys[i]);
      if (strstr (obj->keys[i], "..") || strchr (obj->keys[i], '/'))
        return bl_fail (err, 0, "linux.sysctl.%s: invalid key", obj->keys[i]);
      s->sysctls[i].key = strdup (obj->keys[i]);
      s->sysctls[i].value = strdup (obj->items[i]->str);
      s->n_sysctls++;
    }
  return 0;
}

/* Reads one device cgroup rule.  */
static int
parse_device_rule (const struct bl_json *o, const char *prefix, struct bl_device_rule *d,
                   struct bl_error *err)
{
  cleanup_free char *type = NULL, *access = NULL;
  d->major = d->minor = -1;
  d->type = 'a';
  if (o->type != BL_JSON_OBJECT)
    return bl_fail (err, 0, "%s: expected object", prefix);
  if (bl_field_bool (o, prefix, "allow", &d->allow, err) < 0
      || bl_field_str (o, prefix, "type", false, &type, err) < 0
      || bl_field_i64 (o, prefix, "major", &d->major, err) < 0
      || bl_field_i64 (o, prefix, "minor", &d->minor, err) < 0
      || bl_field_str (o, prefix, "access", false, &access, err) < 0)
    return -1;
  if (bl_json_get (o, "allow") == NULL)
    return bl_fail (err, 0, "%s.allow: missing", prefix);
  if (type && (strlen (type) != 1 || !strchr ("acb", type[0])))
    return bl_fail (err, 0, "%s.type: expected \"a\", \"c\" or \"b\", got `%s`", prefix, type);
  if (type)
    d->type = type[0];
  if (access && (strlen (access) > 3 || access[strspn (access, "rwm")] != '\0'))
    return bl_fail (err, 0, "%s.access: expected letters of \"rwm\", got `%s`", prefix, access);
  snprintf (d->access, sizeof d->access, "%s", access && *access ? access : "rwm");
  return 0;
}

/* Reads linux.resources.devices.  */
static int
parse_devices (const struct bl_json *res, struct bl_resources *r, struct bl_error *err)
{
  const struct bl_json *arr;
  if (bl_field_typed (res, "linux.resources", "devices", BL_JSON_ARRAY, false, &arr, err) < 0)
    return -1;
  if (arr == NULL)
    return 0;
  r->devices = calloc (arr->n + 1, sizeof *r->devices);
  if (r->devices == NULL)
    return bl_fail (err, ENOMEM, "calloc");
  for (size_t i = 0; i < arr->n; i++)
    {
      char prefix[64];
      snprintf (prefix, sizeof prefix, "linux.resources.devices[%zu]", i);
      if (parse_device_rule (arr->items[i], prefix, &r->devices[i], err) < 0)
        return -1;
      r->n_devices++;
    }
  return 0;
}

/* Reads linux.resources (memory, cpu, pids).  */
static int
parse_resources (const struct bl_json *lx, struct bl_resources *r, struct bl_error *err)
{
  const struct bl_json *res, *mem, *cpu, *pids;
  r->memory_limit = r->memory_swap = r->cpu_quota = r->pids_limit = -1;
  if (bl_field_typed (lx, "linux", "resources", BL_JSON_OBJECT, false, &res, err) < 0)
    return -1;
  if (res == NULL)
    return 0;
  if (bl_field_typed (res, "linux.resources", "memory", BL_JSON_OBJECT, false, &mem, err) < 0
      || bl_field_typed (res, "linux.resources", "cpu", BL_JSON_OBJECT, false, &cpu, err) < 0
      || bl_field_typed (res, "linux.resources", "pids", BL_JSON_OBJECT, false, &pids, err) < 0)
    return -1;
  if (bl_field_i64 (mem, "linux.resources.memory", "limit", &r->memory_limit, err) < 0
      || bl_field_i64 (mem, "linux.resources.memory", "swap", &r->memory_swap, err) < 0
      || bl_field_u64 (cpu, "linux.resources.cpu", "shares", false, &r->cpu_shares, err) < 0
      || bl_field_i64 (cpu, "linux.resources.cpu", "quota", &r->cpu_quota, err) < 0
      || bl_field_u64 (cpu, "linux.resources.cpu", "period", false, &r->cpu_period, err) < 0)
    return -1;
  if (pids && bl_field_i64 (pids, "linux.resources.pids", "limit", &r->pids_limit, err) < 0)
    return -1;
  if (parse_devices (res, r, err) < 0)
    return -1;
  if (pids && bl_json_get (pids, "limit") == NULL)
    return bl_fail (err, 0, "linux.resources.pids.limit: missing");
  return 0;
}

/* Reads the "linux" object.  */
static int
parse_linux (const struct bl_json *root, struct bl_spec *s, struct bl_error *err)
{
  const struct bl_json *lx;
  if (bl_field_typed (root, "", "linux", BL_JSON_OBJECT, false, &lx, err) < 0)
    return -1;
  s->resources.memory_limit = s->resources.memory_swap = -1;
  s->resources.cpu_quota = s->resources.pids_limit = -1;
  if (lx == NULL)
    return 0;
  /* A profile in the spec is not interpreted; asking for one gets the built-in default
     rather than silently no filter.  */
  s->seccomp_default = bl_json_get (lx, "seccomp") != NULL;
  return (parse_namespaces (lx, s, err) < 0
          || bl_field_strv (lx, "linux", "maskedPaths", false, &s->masked_paths, &s->n_masked,
                            err)
                 < 0
          || bl_field_strv (lx, "linux", "readonlyPaths", false, &s->readonly_paths,
                            &s->n_readonly, err)
                 < 0
          || parse_sysctl (lx, s, err) < 0
          || bl_field_str (lx, "linux", "cgroupsPath", false, &s->cgroups_path, err) < 0
          || bl_field_str (lx, "linux", "rootfsPropagation", false, &s->rootfs_propagation,
                           err)
                 < 0
          || parse_resources (lx, &s->resources, err) < 0)
             ? -1
             : 0;
}

/* Reads "root" and resolves its path against the bundle.  */
static int
parse_root (const struct bl_json *doc, const char *bundle, struct bl_spec *s, struct bl_error *err)
{
  const struct bl_json *root;
  cleanup_free char *path = NULL;
  char resolved[PATH_MAX];
  if (bl_field_typed (doc, "", "root", BL_JSON_OBJECT, true, &root, err) < 0
      || bl_field_str (root, "root", "path", true, &path, err) < 0
      || bl_field_bool (root, "root", "readonly", &s->root_readonly, err) < 0)
    return -1;
  if (path[0] == '/')
    snprintf (resolved, sizeof resolved, "%s", path);
  else
    snprintf (resolved, sizeof resolved, "%s/%s", bundle, path);
  s->root_path = realpath (resolved, NULL);
  if (s->root_path == NULL)
    return bl_fail (err, errno, "root.path: `%s`", resolved);
  return 0;
}

/* Reads the annotations burstlet understands.  */
static int
parse_annotations (const struct bl_json *doc, struct bl_spec *s, struct bl_error *err)
{
  const struct bl_json *ann, *sec;
  if (bl_field_typed (doc, "", "annotations", BL_JSON_OBJECT, false, &ann, err) < 0)
    return -1;
  sec = bl_json_get (ann, "run.burstlet.seccomp");
  if (sec && (sec->type != BL_JSON_STRING || strcmp (sec->str, "default") != 0))
    return bl_fail (err, 0, "annotations.run.burstlet.seccomp: only \"default\" is supported");
  s->seccomp_default |= sec != NULL;
  return 0;
}

int
bl_spec_load (const char *bundle, struct bl_spec **out, struct bl_error *err)
{
  char path[PATH_MAX];
  struct bl_spec *s = calloc (1, sizeof *s);
  const struct bl_json *doc;

  if (s == NULL)
    return bl_fail (err, ENOMEM, "calloc");
  snprintf (path, sizeof path, "%s/config.json", bundle);
  if (bl_json_parse_file (path, &s->json, err) < 0)
    return bl_spec_free (s), -1;
  doc = s->json;
  if (doc->type != BL_JSON_OBJECT)
    return bl_spec_free (s), bl_fail (err, 0, "config.json: expected an object");
  if (bl_field_typed (doc, "", "ociVersion", BL_JSON_STRING, true, &(const struct bl_json *){ NULL },
                      err)
          < 0
      || parse_root (doc, bundle, s, err) < 0
      || bl_spec_parse_process (bl_json_get (doc, "process"), "process", &s->process, err) < 0
      || bl_field_str (doc, "", "hostname", false, &s->hostname, err) < 0
      || bl_field_str (doc, "", "domainname", false, &s->domainname, err) < 0
      || parse_mounts (doc, s, err) < 0 || parse_linux (doc, s, err) < 0
      || parse_annotations (doc, s, err) < 0)
    return bl_spec_free (s), bl_wrap (err, "invalid config.json");
  *out = s;
  return 0;
}

bool
bl_spec_has_namespace (const struct bl_spec *spec, int flag, const char **joined)
{
  for (size_t i = 0; i < spec->n_namespaces; i++)
    if (spec->namespaces[i].flag == flag)
      {
        if (joined)
          *joined = spec->namespaces[i].path;
        return spec->namespaces[i].path == NULL;
      }
  if (joined)
    *joined = NULL;
  return false;
}

void
bl_spec_free (struct bl_spec *s)
{
  if (s == NULL)
    return;
  free (s->root_path);
  free (s->hostname);
  free (s->domainname);
  bl_process_free (&s->process);
  for (size_t i = 0; i < s->n_mounts; i++)
    {
      free (s->mounts[i].destination);
      free (s->mounts[i].type);
      free (s->mounts[i].source);
      bl_strv_free (s->mounts[i].options);
    }
  free (s->mounts);
  for (size_t i = 0; i < s->n_namespaces; i++)
    free (s->namespaces[i].path);
  free (s->namespaces);
  bl_strv_free (s->masked_paths);
  bl_strv_free (s->readonly_paths);
  for (size_t i = 0; i < s->n_sysctls; i++)
    {
      free (s->sysctls[i].key);
      free (s->sysctls[i].value);
    }
  free (s->sysctls);
  free (s->cgroups_path);
  free (s->rootfs_propagation);
  free (s->resources.devices);
  bl_json_free (s->json);
  free (s);
}
