/* burstlet-runtime: OCI runtime CLI (create/start/state/kill/delete/run/exec).  */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const struct bl_command commands[] = {
  { "create", "create [--bundle DIR] [--pid-file FILE] [--log-path FILE] [--start] ID", bl_cmd_create },
  { "start", "start ID", bl_cmd_start },
  { "state", "state ID", bl_cmd_state },
  { "kill", "kill [--all] ID [SIGNAL]", bl_cmd_kill },
  { "delete", "delete [--force] ID", bl_cmd_delete },
  { "run", "run [--bundle DIR] [--log-path FILE] ID", bl_cmd_run },
  { "exec", "exec [--process FILE] [--cwd DIR] [--env K=V]... [--user UID[:GID]] [--tty [--size COLSxROWS] [--resize-fd FD]] ID [ARGS...]",
    bl_cmd_exec },
  { "serve", "serve  (requests on stdin, answers on stdout; see cmd-serve.c)", bl_cmd_serve },
};

int
bl_cli_error (const struct bl_error *err)
{
  fprintf (stderr, "burstlet-runtime: %s\n", err->msg);
  return 1;
}

int
bl_cli_usage (const char *cmd, const char *usage)
{
  (void) cmd;
  fprintf (stderr, "usage: burstlet-runtime [--root DIR] %s\n", usage);
  return 2;
}

/* Prints the command list.  */
static int
usage (void)
{
  fprintf (stderr, "usage: burstlet-runtime [--root DIR] COMMAND ...\ncommands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
    fprintf (stderr, "  %s\n", commands[i].usage);
  return 2;
}

int
bl_cli_main (int argc, char **argv)
{
  struct bl_cli cli = { .root = "/run/burstlet" };
  int i = 1;
  /* Global options come before the command; runc's --log/--log-format/--debug are accepted
     and ignored so callers written for runc work unchanged.  */
  for (; i < argc && argv[i][0] == '-'; i++)
    {
      if (strcmp (argv[i], "--root") == 0 && i + 1 < argc)
        cli.root = argv[++i];
      else if (strncmp (argv[i], "--root=", 7) == 0)
        cli.root = argv[i] + 7;
      else if ((strcmp (argv[i], "--log") == 0 || strcmp (argv[i], "--log-format") == 0)
               && i + 1 < argc)
        i++;
      else if (strcmp (argv[i], "--debug") != 0 && strcmp (argv[i], "--systemd-cgroup") != 0)
        return usage ();
    }
  if (i >= argc)
    return usage ();
  for (size_t c = 0; c < sizeof commands / sizeof *commands; c++)
    if (strcmp (commands[c].name, argv[i]) == 0)
      {
        optind = 1;
        return commands[c].run (&cli, argc - i, argv + i);
      }
  fprintf (stderr, "burstlet-runtime: unknown command `%s`\n", argv[i]);
  return usage ();
}

int
main (int argc, char **argv)
{
  return bl_cli_main (argc, argv);
}
