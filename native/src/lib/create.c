/* create: bl_container_create and the container's monitor it forks, or (under `serve`)
   becomes.  */
#include "container.h"
#include "container-priv.h"
#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* The forked monitor of `create`: reports to the caller through `report`, then stays.  */
static _Noreturn void
monitor_main (const struct bl_create_opts *o, struct prepared *p, int fifo_fd, int report)
{
  struct bl_error err = { 0 };
  struct bl_monitor m = { .log_fd = -1, .out_fd = -1, .err_fd = -1, .state_dir = p->dir,
                          .cg = p->cg, .cgpath = p->cgpath };
  char msg[BL_ERROR_MAX + 32];
  int code, null;

  /* `ps`/`top` name it: a monitor outlives the command that forked it.  */
  prctl (PR_SET_NAME, "bl-monitor", 0, 0, 0);

  setsid ();
  if (bl_spawn (o, p, fifo_fd, &m, &err) < 0 || bl_record_state (o, p, m.child, &err) < 0)
    {
      dprintf (report, "E%s", err.msg);
      _exit (1);
    }
  if (fifo_fd >= 0)
    close (fifo_fd);
  snprintf (msg, sizeof msg, "O%d", m.child);
  (void) !write (report, msg, strlen (msg));
  close (report);
  /* Let go of the caller's stdio so its pipes close when it exits.  */
  null = open ("/dev/null", O_RDWR);
  dup2 (null, 0), dup2 (null, 1), dup2 (null, 2);
  _exit (bl_monitor_loop (&m, &code, &err) < 0 ? 1 : 0);
}

int bl_create_done_fd = -1;

/* bl_container_create under `serve`: the call's own process becomes the monitor (one fork
   and one exit fewer per container than forking monitor_main).  Returns only on failure,
   with nothing left behind.  */
static int
create_in_place (const struct bl_create_opts *o, struct prepared *p, int fifo_fd, struct bl_error *err)
{
  struct bl_monitor m = { .log_fd = -1, .out_fd = -1, .err_fd = -1, .state_dir = p->dir,
                          .cg = p->cg, .cgpath = p->cgpath };
  const char ok[4] = { 0, 0, 0, 0 };
  int code, null;

  prctl (PR_SET_NAME, "bl-monitor", 0, 0, 0);
  setsid ();
  if (bl_spawn (o, p, fifo_fd, &m, err) < 0 || bl_record_state (o, p, m.child, err) < 0)
    {
      if (m.child > 0)
        kill (m.child, SIGKILL), waitpid (m.child, NULL, 0);
      if (fifo_fd >= 0)
        close (fifo_fd);
      bl_unprepare (p);
      return -1;
    }
  if (fifo_fd >= 0)
    close (fifo_fd);
  fflush (stdout), fflush (stderr);
  if (bl_write_all (bl_create_done_fd, ok, sizeof ok) < 0)
    {
      /* serve is gone: nobody learns of this container, so it must not stay.  */
      kill (m.child, SIGKILL), waitpid (m.child, NULL, 0);
      bl_unprepare (p);
      _exit (1);
    }
  close (bl_create_done_fd);
  bl_create_done_fd = -1;
  /* Let go of serve's pipes, as the forked monitor does of the caller's stdio.  */
  null = open ("/dev/null", O_RDWR);
  dup2 (null, 0), dup2 (null, 1), dup2 (null, 2);
  _exit (bl_monitor_loop (&m, &code, err) < 0 ? 1 : 0);
}

/* Reads the monitor's report: "O<pid>" or "E<message>".  */
static int
read_report (int fd, pid_t *pid, struct bl_error *err)
{
  char msg[BL_ERROR_MAX + 32];
  size_t got = 0;
  ssize_t n;
  while (got < sizeof msg - 1 && (n = read (fd, msg + got, sizeof msg - 1 - got)) > 0)
    got += (size_t) n;
  msg[got] = '\0';
  if (got > 1 && msg[0] == 'O')
    return *pid = (pid_t) atoi (msg + 1), 0;
  if (got > 1 && msg[0] == 'E')
    return bl_fail (err, 0, "%s", msg + 1);
  return bl_fail (err, 0, "the monitor exited before the container was created");
}

int
bl_container_create (const struct bl_create_opts *o, pid_t *pid, struct bl_error *err)
{
  struct prepared p;
  char fifo[PATH_MAX + 16];
  int report[2], fifo_fd = -1;
  pid_t mon;

  if (bl_prepare (o, &p, err) < 0)
    return bl_spec_free (p.spec), -1;
  /* Without exec.fifo the init does not wait for `start` (as under `run`).  */
  snprintf (fifo, sizeof fifo, "%s/exec.fifo", p.dir);
  if (!o->start && (mkfifo (fifo, 0622) < 0 || (fifo_fd = open (fifo, O_PATH | O_CLOEXEC)) < 0))
    return bl_fail (err, errno, "mkfifo `%s`", fifo), bl_unprepare (&p), -1;
  if (bl_create_done_fd >= 0)
    {
      int r = create_in_place (o, &p, fifo_fd, err);
      bl_spec_free (p.spec);
      return r;
    }
  if (pipe2 (report, O_CLOEXEC) < 0)
    return bl_fail (err, errno, "pipe"), bl_unprepare (&p), -1;
  mon = fork ();
  if (mon < 0)
    return bl_fail (err, errno, "fork monitor"), bl_unprepare (&p), -1;
  if (mon == 0)
    {
      close (report[0]);
      monitor_main (o, &p, fifo_fd, report[1]);
    }
  close (report[1]);
  if (fifo_fd >= 0)
    close (fifo_fd);
  int r = read_report (report[0], pid, err);
  close (report[0]);
  if (r < 0)
    {
      waitpid (mon, NULL, 0);
      bl_unprepare (&p);
      return -1;
    }
  bl_spec_free (p.spec);
  return 0;
}
