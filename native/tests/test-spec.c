/* Unit tests of spec.c / spec-process.c: a runc-style config parses; wrong fields are named.  */
#include "check.h"
#include "spec.h"

#include <sched.h>
#include <stdlib.h>
#include <sys/stat.h>

static char bundle[] = "/tmp/bl-test-spec-XXXXXX";

/* Writes config.json into the test bundle.  */
static void
write_config (const char *text)
{
  char path[256];
  snprintf (path, sizeof path, "%s/config.json", bundle);
  FILE *f = fopen (path, "w");
  fputs (text, f);
  fclose (f);
}

#define BASE_PROCESS                                                                               \
  "\"process\":{\"user\":{\"uid\":1000,\"gid\":100,\"additionalGids\":[5,6]},"                    \
  "\"args\":[\"sh\"],\"env\":[\"PATH=/bin\",\"A=1\"],\"cwd\":\"/\","                               \
  "\"capabilities\":{\"bounding\":[\"CAP_KILL\",\"CAP_CHOWN\"],\"ambient\":[]},"                  \
  "\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":1024,\"soft\":512}],"                        \
  "\"noNewPrivileges\":true,\"oomScoreAdj\":100}"

static void
test_good (void)
{
  struct bl_spec *s = NULL;
  struct bl_error err = { 0 };
  write_config ("{\"ociVersion\":\"1.0.2\"," BASE_PROCESS ",\"root\":{\"path\":\"rootfs\","
                "\"readonly\":true},\"hostname\":\"h\",\"mounts\":[{\"destination\":\"/proc\","
                "\"type\":\"proc\",\"source\":\"proc\",\"options\":[\"nosuid\"]}],"
                "\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\",\"path\":"
                "\"/proc/1/ns/net\"}],\"resources\":{\"memory\":{\"limit\":1048576},\"pids\":"
                "{\"limit\":5},\"cpu\":{\"shares\":512,\"quota\":-1}},\"sysctl\":{\"net.ipv4.ip_forward\":\"1\"}}}");
  CHECK (bl_spec_load (bundle, &s, &err) == 0);
  if (s == NULL)
    {
      fprintf (stderr, "%s\n", err.msg);
      return;
    }
  CHECK (s->process.uid == 1000 && s->process.gid == 100 && s->process.n_gids == 2);
  CHECK (s->process.caps[BL_CAP_BOUNDING] == ((1ULL << 5) | (1ULL << 0)));
  CHECK (s->process.has_caps && s->process.no_new_privileges);
  CHECK (s->process.n_rlimits == 1 && s->process.rlimits[0].soft == 512);
  CHECK (s->process.has_oom_score_adj && s->process.oom_score_adj == 100);
  CHECK_STR (bl_env_get (s->process.env, "A"), "1");
  CHECK (s->root_readonly && strstr (s->root_path, "/rootfs") != NULL);
  CHECK (s->n_mounts == 1 && s->mounts[0].n_options == 1);
  CHECK (bl_spec_has_namespace (s, CLONE_NEWPID, NULL));
  const char *joined = NULL;
  CHECK (!bl_spec_has_namespace (s, CLONE_NEWNET, &joined));
  CHECK_STR (joined, "/proc/1/ns/net");
  CHECK (s->resources.memory_limit == 1048576 && s->resources.pids_limit == 5);
  CHECK (s->resources.cpu_shares == 512 && s->resources.cpu_quota == -1);
  CHECK (s->n_sysctls == 1);
  bl_spec_free (s);
}

/* Loads a config expected to fail with a message containing `needle`.  */
static void
expect_error (const char *config, const char *needle)
{
  struct bl_spec *s = NULL;
  struct bl_error err = { 0 };
  write_config (config);
  CHECK (bl_spec_load (bundle, &s, &err) < 0);
  if (strstr (err.msg, needle) == NULL)
    {
      fprintf (stderr, "expected `%s` in `%s`\n", needle, err.msg);
      check_failures++;
    }
}

static void
test_errors (void)
{
  expect_error ("{\"root\":{\"path\":\"rootfs\"}," BASE_PROCESS "}", "ociVersion: missing");
  expect_error ("{\"ociVersion\":\"1\",\"root\":{\"path\":\"rootfs\"}}", "process: expected object");
  expect_error ("{\"ociVersion\":\"1\",\"root\":{\"path\":7}," BASE_PROCESS "}",
                "root.path: expected string, got number");
  expect_error ("{\"ociVersion\":\"1\",\"root\":{\"path\":\"nope\"}," BASE_PROCESS "}",
                "root.path: `");
  expect_error ("{\"ociVersion\":\"1\",\"root\":{\"path\":\"rootfs\"},\"process\":{\"user\":"
                "{\"uid\":-1,\"gid\":0},\"args\":[\"sh\"],\"cwd\":\"/\"}}",
                "process.user.uid: expected a non-negative integer");
  expect_error ("{\"ociVersion\":\"1\",\"root\":{\"path\":\"rootfs\"},\"process\":{\"user\":"
                "{\"uid\":0,\"gid\":0},\"args\":[],\"cwd\":\"/\"}}",
                "process.args: must not be empty");
  expect_error ("{\"ociVersion\":\"1\",\"root\":{\"path\":\"rootfs\"},\"process\":{\"user\":"
                "{\"uid\":0,\"gid\":0},\"args\":[\"sh\", 3],\"cwd\":\"/\"}}",
                "process.args[1]: expected string, got number");
  expect_error ("{\"ociVersion\":\"1\",\"root\":{\"path\":\"rootfs\"}," BASE_PROCESS
                ",\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"pid\"}]}}",
                "linux.namespaces[1].type: duplicate namespace");
  expect_error ("{\"ociVersion\":\"1\",\"root\":{\"path\":\"rootfs\"}," BASE_PROCESS
                ",\"linux\":{\"resources\":{\"pids\":{}}}}",
                "linux.resources.pids.limit: missing");
}

int
main (void)
{
  char path[256];
  CHECK (mkdtemp (bundle) != NULL);
  snprintf (path, sizeof path, "%s/rootfs", bundle);
  mkdir (path, 0755);
  test_good ();
  test_errors ();
  rmdir (path);
  snprintf (path, sizeof path, "%s/config.json", bundle);
  unlink (path);
  rmdir (bundle);
  CHECK_DONE ("test-spec");
}
