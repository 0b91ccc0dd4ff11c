/* The burstlet-runtime command line: global options, the command table, and helpers the
   subcommands share.  Commands print errors and choose exit codes; the library does not.  */
#ifndef BL_CLI_H
#define BL_CLI_H

#include "../lib/error.h"

struct bl_cli
{
  const char *root; /* --root, default /run/burstlet */
};

/* One subcommand: argv[0] is the subcommand name; returns the process exit code.  */
struct bl_command
{
  const char *name;
  const char *usage;
  int (*run) (struct bl_cli *cli, int argc, char **argv);
};

/* Prints "burstlet-runtime: <msg>" to stderr and returns 1.  */
int bl_cli_error (const struct bl_error *err);

/* Prints a usage error for `cmd` and returns 2.  */
int bl_cli_usage (const char *cmd, const char *usage);

int bl_cmd_create (struct bl_cli *cli, int argc, char **argv);
int bl_cmd_start (struct bl_cli *cli, int argc, char **argv);
int bl_cmd_state (struct bl_cli *cli, int argc, char **argv);
int bl_cmd_kill (struct bl_cli *cli, int argc, char **argv);
int bl_cmd_delete (struct bl_cli *cli, int argc, char **argv);
int bl_cmd_run (struct bl_cli *cli, int argc, char **argv);
int bl_cmd_exec (struct bl_cli *cli, int argc, char **argv);
int bl_cmd_serve (struct bl_cli *cli, int argc, char **argv);

/* The whole command line as `main` runs it (argv[0] is the program); `serve` runs it in
   forked children.  */
int bl_cli_main (int argc, char **argv);

#endif
