/* The state directory of a container (<root>/<id>): state.json written once by the
   monitor when the container is created, exit.json written by the monitor when the
   container exits, exec.fifo present while created-but-not-started.  A restarted worker
   re-adopts containers by reading these files.  */
#ifndef BL_STATE_H
#define BL_STATE_H

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "error.h"

struct bl_state
{
  char id[256];
  char dir[PATH_MAX];
  char bundle[PATH_MAX];
  char rootfs[PATH_MAX];
  char cgroup_path[PATH_MAX];
  char cgroup_driver[8];
  char created[64];
  char log_path[PATH_MAX];
  pid_t pid;
  unsigned long long pid_start;
  pid_t monitor_pid;
  const char *status; /* "creating", "created", "running" or "stopped" */
  bool has_exit;
  int exit_code;   /* 128+signal when killed by a signal */
  int exit_signal; /* 0 unless killed by a signal */
  bool oom_killed;
  char finished_at[64];
};

/* <root>/<id>, after checking the id is a plain name.  */
int bl_state_dir (const char *root, const char *id, char *out, size_t len, struct bl_error *err);

/* Writes state.json (atomically) from the fields of `st`.  */
int bl_state_save (const struct bl_state *st, struct bl_error *err);

/* Writes exit.json (atomically).  */
int bl_state_save_exit (const char *dir, int code, int sig, bool oom, struct bl_error *err);

/* Loads a container's state and computes its status (checking the pid is still the same
   process).  Fails with ENOENT when the container does not exist.  */
int bl_state_load (const char *root, const char *id, struct bl_state *st, struct bl_error *err);

/* Prints the OCI state JSON (plus a "burstlet" object with exit details).  */
void bl_state_print (FILE *f, const struct bl_state *st);

/* Start time of a process (field 22 of /proc/<pid>/stat), or 0 if it is gone.  */
unsigned long long bl_proc_start_time (pid_t pid);

/* RFC 3339 UTC timestamp with all nine fraction digits (as conmon writes CRI logs; Go's
   RFC3339Nano parser accepts it).  */
void bl_rfc3339_nano (char *out, size_t len);

/* Removes a directory tree (no symlink following).  */
int bl_remove_tree (const char *path, struct bl_error *err);

#endif
