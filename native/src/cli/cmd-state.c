/* `state`: print the OCI state JSON.  */
#include "cli.h"
#include "../lib/state.h"

#include <stdio.h>

int
bl_cmd_state (struct bl_cli *cli, int argc, char **argv)
{
  struct bl_error err = { 0 };
  struct bl_state st;
  if (argc != 2)
    return bl_cli_usage ("state", "state ID");
  if (bl_state_load (cli->root, argv[1], &st, &err) < 0)
    return bl_cli_error (&err);
  bl_state_print (stdout, &st);
  return 0;
}
