/* `run`: create + start in the foreground; exits with the container's exit code.  */
#include "cli.h"
#include "../lib/container.h"

#include <getopt.h>

int
bl_cmd_run (struct bl_cli *cli, int argc, char **argv)
{
  static const struct option opts[] = {
    { "bundle", required_argument, 0, 'b' },
    { "log-path", required_argument, 0, 'l' },
    { 0, 0, 0, 0 },
  };
  struct bl_create_opts o = { .bundle = ".", .root = cli->root };
  struct bl_error err = { 0 };
  int c, code = 0;
  while ((c = getopt_long (argc, argv, "b:", opts, NULL)) != -1)
    switch (c)
      {
      case 'b': o.bundle = optarg; break;
      case 'l': o.log_path = optarg; break;
      default: return bl_cli_usage ("run", "run [--bundle DIR] [--log-path FILE] ID");
      }
  if (optind != argc - 1)
    return bl_cli_usage ("run", "run [--bundle DIR] [--log-path FILE] ID");
  o.id = argv[optind];
  if (bl_container_run (&o, &code, &err) < 0)
    return bl_cli_error (&err);
  return code;
}
