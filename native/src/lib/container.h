/* Container lifecycle, OCI runtime CLI semantics.  State lives in <root>/<id> (state.h).
   All functions are safe to call from a fresh single-threaded process only: they fork,
   clone into new namespaces and setns.  */
#ifndef BL_CONTAINER_H
#define BL_CONTAINER_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "spec.h"

struct bl_create_opts
{
  const char *id;
  const char *bundle;   /* directory holding config.json */
  const char *root;     /* state root, e.g. /run/burstlet */
  const char *log_path; /* CRI log file; NULL = the container inherits our stdio */
  bool start;           /* create: no exec.fifo, the process runs at once (create + start) */
};

/* Creates the container and returns once its init waits on exec.fifo (with o->start: once
   its process runs, no fifo, as `create` then `start` would leave it).  A detached monitor
   (its own session) stays as the container's parent and outlives the caller.  On failure
   nothing is left behind (state dir, cgroup).
   With bl_create_done_fd >= 0 (a `serve` call, cmd-serve.c) the caller becomes the monitor
   itself instead of forking one: once the container is created it flushes stdout/stderr,
   writes its exit status 0 as a u32 on that fd, closes it and never returns.  */
int bl_container_create (const struct bl_create_opts *o, pid_t *pid, struct bl_error *err);
extern int bl_create_done_fd;

/* Creates and starts the container with the caller as its monitor, waits for it to exit,
   removes it, and returns its exit code (128+signal when killed) in *code.  */
int bl_container_run (const struct bl_create_opts *o, int *code, struct bl_error *err);

/* Lets a created container exec its process.  */
int bl_container_start (const char *root, const char *id, struct bl_error *err);

/* Sends `sig` to the container's init (or, with `all`, to every process of its cgroup).  */
int bl_container_kill (const char *root, const char *id, int sig, bool all, struct bl_error *err);

/* Removes a stopped container (with `force`, kills it first and waits for its exit).
   Idempotent for missing containers only when `force`.  */
int bl_container_delete (const char *root, const char *id, bool force, struct bl_error *err);

/* How an exec'd process talks to the caller.  Without `tty` the caller's stdio is the
   process's stdio.  With `tty` the process gets a new pseudo-terminal as its controlling
   terminal and stdio; the caller's stdin is copied to it and its output to the caller's
   stdout (stderr merged, as with any terminal); `resize_fd` (or -1) carries "COLS ROWS\n"
   lines that set the terminal size.  */
struct bl_exec_io
{
  bool tty;
  int resize_fd;
  unsigned short cols, rows; /* initial size, 0 = leave the default */
};

/* Runs `p` inside a running container (its namespaces, cgroup, root), its stdio as `io`
   says (NULL: the caller's).  *code receives the exit code.  Installs handlers that forward
   SIGTERM/SIGINT/SIGHUP/SIGQUIT/SIGUSR1/SIGUSR2 to the process while it runs.  */
int bl_container_exec (const char *root, const char *id, const struct bl_process *p,
                       const struct bl_exec_io *io, int *code, struct bl_error *err);

/* Signal number for "KILL", "SIGKILL" or "9"; -1 when unknown.  */
int bl_signal_from_name (const char *name);

#endif
