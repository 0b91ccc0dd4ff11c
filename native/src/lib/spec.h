/* The parts of an OCI runtime-spec config.json that burstlet implements, parsed and
   validated up front: a missing or wrong-typed field fails before anything is created,
   and the message names the field (e.g. "process.user.uid: expected number").  */
#ifndef BL_SPEC_H
#define BL_SPEC_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "error.h"
#include "json.h"

enum bl_cap_set
{
  BL_CAP_BOUNDING,
  BL_CAP_EFFECTIVE,
  BL_CAP_INHERITABLE,
  BL_CAP_PERMITTED,
  BL_CAP_AMBIENT,
  BL_CAP_SETS
};

struct bl_mount
{
  char *destination;
  char *type;
  char *source;
  char **options;
  size_t n_options;
};

/* One namespace to create (path NULL) or join (path set); flag is a CLONE_NEW* value.  */
struct bl_namespace
{
  int flag;
  char *path;
};

struct bl_rlimit
{
  int resource;
  uint64_t soft, hard;
};

struct bl_process
{
  bool terminal;
  uint32_t uid, gid;
  uint32_t *additional_gids;
  size_t n_gids;
  char **args; /* NULL-terminated */
  char **env;  /* NULL-terminated */
  char *cwd;
  bool has_caps;
  uint64_t caps[BL_CAP_SETS];
  bool no_new_privileges;
  struct bl_rlimit *rlimits;
  size_t n_rlimits;
  bool has_oom_score_adj;
  int oom_score_adj;
};

/* One linux.resources.devices rule; major/minor -1 mean any.  */
struct bl_device_rule
{
  bool allow;
  char type; /* 'a', 'c' or 'b' */
  int64_t major, minor;
  char access[4];
};

/* Unset limits are -1 (or 0 for shares/period).  */
struct bl_resources
{
  struct bl_device_rule *devices;
  size_t n_devices;
  int64_t memory_limit;
  int64_t memory_swap;
  uint64_t cpu_shares;
  int64_t cpu_quota;
  uint64_t cpu_period;
  int64_t pids_limit;
};

struct bl_sysctl
{
  char *key, *value;
};

struct bl_spec
{
  char *root_path; /* absolute (resolved against the bundle) */
  bool root_readonly;
  char *hostname;
  char *domainname;
  struct bl_process process;
  struct bl_mount *mounts;
  size_t n_mounts;
  struct bl_namespace *namespaces;
  size_t n_namespaces;
  char **masked_paths;
  size_t n_masked;
  char **readonly_paths;
  size_t n_readonly;
  struct bl_sysctl *sysctls;
  size_t n_sysctls;
  char *cgroups_path;
  char *rootfs_propagation;
  struct bl_resources resources;
  bool seccomp_default; /* linux.seccomp present, or annotation run.burstlet.seccomp=default */
  struct bl_json *json; /* the parsed document, owned */
};

/* Reads and validates <bundle>/config.json.  */
int bl_spec_load (const char *bundle, struct bl_spec **out, struct bl_error *err);

/* Parses a process object (config "process", or an exec --process file).  `field` is the
   prefix used in error messages.  */
int bl_spec_parse_process (const struct bl_json *obj, const char *field, struct bl_process *out,
                           struct bl_error *err);

void bl_spec_free (struct bl_spec *spec);
void bl_process_free (struct bl_process *p);

/* True when the spec asks for a new (not joined) namespace of that CLONE_NEW* kind;
   `joined` receives the path when it is joined instead.  */
bool bl_spec_has_namespace (const struct bl_spec *spec, int flag, const char **joined);

/* Capability number for "CAP_SYS_ADMIN"-style names, or -1.  */
int bl_cap_from_name (const char *name);

/* Value of an environment entry in a NULL-terminated "K=V" list, or NULL.  */
const char *bl_env_get (char **env, const char *key);

#endif
