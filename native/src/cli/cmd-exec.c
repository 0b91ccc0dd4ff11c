/* `exec`: run a process in a running container.  The container's own process settings
   (user, env, capabilities, ...) are the base, as with runc; flags override them.  */
#include "cli.h"
#include "../lib/container.h"
#include "../lib/spec-fields.h"
#include "../lib/state.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define USAGE                                                                                     \
  "exec [--process FILE] [--cwd DIR] [--env K=V]... [--user UID[:GID]] [--tty [--size COLSxROWS] "  \
  "[--resize-fd FD]] ID [ARGS...]"

/* Appends "K=V" to a NULL-terminated env vector.  */
static void
env_add (struct bl_process *p, const char *kv)
{
  size_t n = 0;
  while (p->env && p->env[n])
    n++;
  p->env = realloc (p->env, (n + 2) * sizeof *p->env);
  p->env[n] = strdup (kv);
  p->env[n + 1] = NULL;
}

/* Replaces args with argv[from..argc).  */
static void
set_args (struct bl_process *p, int argc, char **argv, int from)
{
  bl_strv_free (p->args);
  p->args = calloc ((size_t) (argc - from + 1), sizeof *p->args);
  for (int i = from; i < argc; i++)
    p->args[i - from] = strdup (argv[i]);
}

/* The base process: from --process FILE, else the container's config.json.  */
static int
base_process (struct bl_cli *cli, const char *id, const char *file, struct bl_process *p,
              struct bl_error *err)
{
  struct bl_state st;
  struct bl_spec *spec = NULL;
  if (file)
    {
      struct bl_json *doc = NULL;
      int r = bl_json_parse_file (file, &doc, err);
      if (r == 0)
        r = bl_spec_parse_process (doc, "process", p, err);
      bl_json_free (doc);
      return r;
    }
  if (bl_state_load (cli->root, id, &st, err) < 0 || bl_spec_load (st.bundle, &spec, err) < 0)
    return -1;
  *p = spec->process;
  memset (&spec->process, 0, sizeof spec->process);
  bl_spec_free (spec);
  return 0;
}

int
bl_cmd_exec (struct bl_cli *cli, int argc, char **argv)
{
  static const struct option opts[] = {
    { "process", required_argument, 0, 'p' }, { "cwd", required_argument, 0, 'c' },
    { "env", required_argument, 0, 'e' },     { "user", required_argument, 0, 'u' },
    { "tty", no_argument, 0, 't' },           { "resize-fd", required_argument, 0, 'r' },
    { "size", required_argument, 0, 's' },    { 0, 0, 0, 0 },
  };
  const char *file = NULL, *cwd = NULL, *user = NULL;
  char **envs = calloc ((size_t) argc, sizeof *envs);
  size_t n_env = 0;
  struct bl_process p;
  struct bl_error err = { 0 };
  struct bl_exec_io io = { .tty = false, .resize_fd = -1 };
  unsigned cols, rows;
  int c, code = 0;
  while ((c = getopt_long (argc, argv, "+p:c:e:u:tr:s:", opts, NULL)) != -1)
    switch (c)
      {
      case 'p': file = optarg; break;
      case 'c': cwd = optarg; break;
      case 'e': envs[n_env++] = optarg; break;
      case 'u': user = optarg; break;
      case 't': io.tty = true; break;
      case 'r': io.resize_fd = atoi (optarg); break;
      case 's':
        if (sscanf (optarg, "%ux%u", &cols, &rows) != 2 || !cols || !rows || cols > 65535 || rows > 65535)
          return bl_cli_usage ("exec", USAGE);
        io.cols = (unsigned short) cols, io.rows = (unsigned short) rows;
        break;
      default: return bl_cli_usage ("exec", USAGE);
      }
  if (optind >= argc || (file == NULL && optind + 1 >= argc))
    return bl_cli_usage ("exec", USAGE);
  if (base_process (cli, argv[optind], file, &p, &err) < 0)
    return bl_cli_error (&err);
  if (optind + 1 < argc)
    set_args (&p, argc, argv, optind + 1);
  for (size_t i = 0; i < n_env; i++)
    env_add (&p, envs[i]);
  if (cwd)
    free (p.cwd), p.cwd = strdup (cwd);
  if (user)
    {
      char *colon = strchr (user, ':');
      p.uid = (uint32_t) strtoul (user, NULL, 10);
      p.gid = colon ? (uint32_t) strtoul (colon + 1, NULL, 10) : p.gid;
    }
  if (bl_container_exec (cli->root, argv[optind], &p, &io, &code, &err) < 0)
    return bl_cli_error (&err);
  return code;
}
