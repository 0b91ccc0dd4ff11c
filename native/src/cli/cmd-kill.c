/* `kill`: signal the container (default SIGTERM).  */
#include "cli.h"
#include "../lib/container.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>

int
bl_cmd_kill (struct bl_cli *cli, int argc, char **argv)
{
  static const struct option opts[] = { { "all", no_argument, 0, 'a' }, { 0, 0, 0, 0 } };
  struct bl_error err = { 0 };
  bool all = false;
  int c, sig = SIGTERM;
  while ((c = getopt_long (argc, argv, "a", opts, NULL)) != -1)
    if (c == 'a')
      all = true;
    else
      return bl_cli_usage ("kill", "kill [--all] ID [SIGNAL]");
  if (optind != argc - 1 && optind != argc - 2)
    return bl_cli_usage ("kill", "kill [--all] ID [SIGNAL]");
  if (optind == argc - 2 && (sig = bl_signal_from_name (argv[argc - 1])) < 0)
    {
      fprintf (stderr, "burstlet-runtime: unknown signal `%s`\n", argv[argc - 1]);
      return 2;
    }
  if (bl_container_kill (cli->root, argv[optind], sig, all, &err) < 0)
    return bl_cli_error (&err);
  return 0;
}
