/* `delete`: remove a stopped container (--force kills it first).  */
#include "cli.h"
#include "../lib/container.h"

#include <getopt.h>

int
bl_cmd_delete (struct bl_cli *cli, int argc, char **argv)
{
  static const struct option opts[] = { { "force", no_argument, 0, 'f' }, { 0, 0, 0, 0 } };
  struct bl_error err = { 0 };
  bool force = false;
  int c;
  while ((c = getopt_long (argc, argv, "f", opts, NULL)) != -1)
    if (c == 'f')
      force = true;
    else
      return bl_cli_usage ("delete", "delete [--force] ID");
  if (optind != argc - 1)
    return bl_cli_usage ("delete", "delete [--force] ID");
  if (bl_container_delete (cli->root, argv[optind], force, &err) < 0)
    return bl_cli_error (&err);
  return 0;
}
