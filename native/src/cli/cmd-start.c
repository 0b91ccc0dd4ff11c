/* `start`: release a created container's init.  */
#include "cli.h"
#include "../lib/container.h"

int
bl_cmd_start (struct bl_cli *cli, int argc, char **argv)
{
  struct bl_error err = { 0 };
  if (argc != 2)
    return bl_cli_usage ("start", "start ID");
  if (bl_container_start (cli->root, argv[1], &err) < 0)
    return bl_cli_error (&err);
  return 0;
}
