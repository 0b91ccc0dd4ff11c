/* `create`: container set up, init waiting on exec.fifo, monitor detached; with `--start`
   its process runs at once (create + start in one call, no fifo).  */
#include "cli.h"
#include "../lib/container.h"

#include <getopt.h>
#include <stdio.h>

int
bl_cmd_create (struct bl_cli *cli, int argc, char **argv)
{
  static const struct option opts[] = {
    { "bundle", required_argument, 0, 'b' },   { "pid-file", required_argument, 0, 'p' },
    { "log-path", required_argument, 0, 'l' }, { "console-socket", required_argument, 0, 'c' },
    { "start", no_argument, 0, 's' },          { 0, 0, 0, 0 },
  };
  struct bl_create_opts o = { .bundle = ".", .root = cli->root };
  const char *pid_file = NULL;
  struct bl_error err = { 0 };
  pid_t pid;
  int c;
  while ((c = getopt_long (argc, argv, "b:", opts, NULL)) != -1)
    switch (c)
      {
      case 'b': o.bundle = optarg; break;
      case 'p': pid_file = optarg; break;
      case 'l': o.log_path = optarg; break;
      case 's': o.start = true; break;
      case 'c':
        fprintf (stderr, "burstlet-runtime: --console-socket is not supported\n");
        return 2;
      default: return bl_cli_usage ("create", "create [--bundle DIR] [--pid-file FILE] [--log-path FILE] [--start] ID");
      }
  if (optind != argc - 1)
    return bl_cli_usage ("create", "create [--bundle DIR] [--pid-file FILE] [--log-path FILE] [--start] ID");
  o.id = argv[optind];
  if (bl_container_create (&o, &pid, &err) < 0)
    return bl_cli_error (&err);
  if (pid_file)
    {
      FILE *f = fopen (pid_file, "we");
      if (f == NULL || fprintf (f, "%d", pid) < 0 || fclose (f) != 0)
        {
          perror ("burstlet-runtime: pid file");
          return 1;
        }
    }
  return 0;
}
