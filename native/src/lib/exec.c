/* exec: run another process in a running container — same namespaces, cgroup and root.  */
#include "container.h"
#include "cgroup.h"
#include "fsutil.h"
#include "process.h"
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <sys/wait.h>
#include <unistd.h>

static const struct
{
  const char *name;
  int flag;
} ns_order[] = {
  /* mnt last: after it, paths resolve inside the container.  */
  { "ipc", CLONE_NEWIPC },   { "uts", CLONE_NEWUTS }, { "net", CLONE_NEWNET },
  { "cgroup", CLONE_NEWCGROUP }, { "mnt", CLONE_NEWNS },
};

/* Whether /proc/<pid>/ns/<name> differs from ours (joining our own is pointless).  */
static bool
differs (pid_t pid, const char *name)
{
  char a[64], b[64];
  struct stat sa, sb;
  snprintf (a, sizeof a, "/proc/%d/ns/%s", pid, name);
  snprintf (b, sizeof b, "/proc/self/ns/%s", name);
  return stat (a, &sa) == 0 && stat (b, &sb) == 0 && sa.st_ino != sb.st_ino;
}

/* setns into the namespace `name` of `pid`.  */
static int
join (pid_t pid, const char *name, int flag, struct bl_error *err)
{
  char path[64];
  cleanup_close int fd = -1;
  snprintf (path, sizeof path, "/proc/%d/ns/%s", pid, name);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return bl_fail (err, errno, "open `%s`", path);
  if (setns (fd, flag) < 0)
    return bl_fail (err, errno, "setns `%s`", path);
  return 0;
}

/* In the forked child: cgroup, namespaces, process setup, exec.  Reports errors on
   `report` (close-on-exec, so success closes it silently).  */
static int child_tty (const struct bl_exec_io *io, int sock, struct bl_error *err);

/* The signal mask before block_forwarded (restored in the child and once forwarding is on).  */
static sigset_t saved_mask;

static _Noreturn void
exec_child (const struct bl_state *st, const struct bl_spec *spec, const struct bl_process *p,
            int report, const struct bl_exec_io *io, int tty_sock)
{
  struct bl_error err = { 0 };
  const struct bl_cgroup_ops *cg = strcmp (st->cgroup_driver, "v2") == 0 ? &bl_cgroup_v2
                                                                          : &bl_cgroup_v1;
  sigprocmask (SIG_SETMASK, &saved_mask, NULL);
  char path[PATH_MAX];
  if (cg->enter (st->cgroup_path, getpid (), &err) < 0)
    goto fail;
  for (size_t i = 0; i < sizeof ns_order / sizeof *ns_order; i++)
    if (differs (st->pid, ns_order[i].name)
        && join (st->pid, ns_order[i].name, ns_order[i].flag, &err) < 0)
      goto fail;
  if (tty_sock >= 0 && child_tty (io, tty_sock, &err) < 0)
    goto fail;
  if (bl_process_lookup (p, path, sizeof path, &err) < 0
      || bl_process_finalize (p, spec->seccomp_default, &err) < 0)
    goto fail;
  bl_process_exec (p, path, spec->seccomp_default, &err);
fail:
  (void) !write (report, err.msg, strlen (err.msg));
  _exit (127);
}

static volatile sig_atomic_t exec_child_pid;

/* Passes a signal on to the exec'd process, so killing the CLI stops it.  */
static void
forward_signal (int sig)
{
  if (exec_child_pid > 0)
    kill (exec_child_pid, sig);
}

static const int forwarded[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };
/* Holds the forwarded signals back from before the fork until forwarding is set up: one
   arriving in between (a caller that stops an exec at once) would otherwise kill us and leave
   the process running.  */
static void
block_forwarded (void)
{
  sigset_t set;
  sigemptyset (&set);
  for (size_t i = 0; i < sizeof forwarded / sizeof *forwarded; i++)
    sigaddset (&set, forwarded[i]);
  sigprocmask (SIG_BLOCK, &set, &saved_mask);
}

/* Forwards the usual stop signals to `child` from now on (held ones included).  */
static void
forward_signals (pid_t child)
{
  struct sigaction sa = { .sa_handler = forward_signal };
  exec_child_pid = child;
  for (size_t i = 0; i < sizeof forwarded / sizeof *forwarded; i++)
    sigaction (forwarded[i], &sa, NULL);
  sigprocmask (SIG_SETMASK, &saved_mask, NULL);
}

/* Applies the "COLS ROWS" lines in `line` (accumulated in `acc`) to the terminal.  */
static void
apply_resize (int master, char *acc, size_t *len)
{
  char *nl;
  while ((nl = memchr (acc, '\n', *len)))
    {
      unsigned cols = 0, rows = 0;
      *nl = '\0';
      if (sscanf (acc, "%u %u", &cols, &rows) == 2 && cols > 0 && rows > 0 && cols < 65536
          && rows < 65536)
        {
          struct winsize ws = { .ws_row = (unsigned short) rows, .ws_col = (unsigned short) cols };
          ioctl (master, TIOCSWINSZ, &ws);
        }
      *len -= (size_t) (nl + 1 - acc);
      memmove (acc, nl + 1, *len);
    }
  if (*len >= 256)
    *len = 0; /* garbage without newlines: drop it */
}

/* Copies stdin → terminal and terminal → stdout, applies resizes, until the terminal's
   last user is gone (EIO/EOF on the master).  */
static void
relay_tty (int master, int resize_fd)
{
  char buf[16384], acc[256];
  size_t acc_len = 0;
  int in_open = 1, rs_open = resize_fd >= 0;
  for (;;)
    {
      struct pollfd fds[3] = { { master, POLLIN, 0 },
                               { in_open ? 0 : -1, POLLIN, 0 },
                               { rs_open ? resize_fd : -1, POLLIN, 0 } };
      if (poll (fds, 3, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          return;
        }
      if (fds[0].revents)
        {
          ssize_t n = read (master, buf, sizeof buf);
          if (n < 0 && errno == EINTR)
            continue;
          if (n <= 0 || bl_write_all (1, buf, (size_t) n) < 0)
            return;
        }
      if (fds[1].revents)
        {
          ssize_t n = read (0, buf, sizeof buf);
          if (n > 0)
            (void) bl_write_all (master, buf, (size_t) n);
          else if (n == 0 || errno != EINTR)
            in_open = 0;
        }
      if (fds[2].revents)
        {
          ssize_t n = read (resize_fd, acc + acc_len, sizeof acc - acc_len);
          if (n > 0)
            acc_len += (size_t) n, apply_resize (master, acc, &acc_len);
          else if (n == 0 || errno != EINTR)
            rs_open = 0;
        }
    }
}

/* In the child, inside the container's mount namespace (so the terminal is one of its
   /dev/pts and ttyname() works there, as with runc's console socket): a new pseudo-terminal
   becomes our controlling terminal and stdio; its master goes to the parent over `sock`.  */
static int
child_tty (const struct bl_exec_io *io, int sock, struct bl_error *err)
{
  char name[64], cbuf[CMSG_SPACE (sizeof (int))] = { 0 }, byte = 't';
  struct iovec iov = { &byte, 1 };
  struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                       .msg_controllen = sizeof cbuf };
  struct cmsghdr *cm = CMSG_FIRSTHDR (&mh);
  int master = posix_openpt (O_RDWR | O_NOCTTY | O_CLOEXEC), slave;
  if (master < 0)
    return bl_fail (err, errno, "open /dev/ptmx in the container");
  if (grantpt (master) < 0 || unlockpt (master) < 0 || ptsname_r (master, name, sizeof name))
    return bl_fail (err, errno, "set up the pseudo-terminal");
  if ((slave = open (name, O_RDWR | O_NOCTTY)) < 0)
    return bl_fail (err, errno, "open `%s`", name);
  if (io->cols && io->rows)
    {
      struct winsize ws = { .ws_row = io->rows, .ws_col = io->cols };
      ioctl (master, TIOCSWINSZ, &ws);
    }
  cm->cmsg_level = SOL_SOCKET, cm->cmsg_type = SCM_RIGHTS, cm->cmsg_len = CMSG_LEN (sizeof (int));
  memcpy (CMSG_DATA (cm), &master, sizeof (int));
  if (sendmsg (sock, &mh, 0) < 0)
    return bl_fail (err, errno, "pass the terminal to the caller");
  close (master), close (sock);
  if (setsid () < 0 || ioctl (slave, TIOCSCTTY, 0) < 0)
    return bl_fail (err, errno, "set the controlling terminal");
  if (dup2 (slave, 0) < 0 || dup2 (slave, 1) < 0 || dup2 (slave, 2) < 0)
    return bl_fail (err, errno, "dup2 the terminal");
  if (slave > 2)
    close (slave);
  return 0;
}

/* The master the child sends over `sock`, or -1 if it failed before.  */
static int
recv_master (int sock)
{
  char cbuf[CMSG_SPACE (sizeof (int))], byte;
  struct iovec iov = { &byte, 1 };
  struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                       .msg_controllen = sizeof cbuf };
  struct cmsghdr *cm;
  int fd = -1;
  ssize_t n;
  do
    n = recvmsg (sock, &mh, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n <= 0 || !(cm = CMSG_FIRSTHDR (&mh)) || cm->cmsg_type != SCM_RIGHTS)
    return -1;
  memcpy (&fd, CMSG_DATA (cm), sizeof fd);
  return fd;
}

/* Waits for the exec'd process (forward_signals is on: signals reach it meanwhile).  */
static int
wait_forwarding (pid_t child, int *wstatus)
{
  pid_t r;
  do
    r = waitpid (child, wstatus, 0);
  while (r < 0 && errno == EINTR);
  return r < 0 ? -1 : 0;
}

int
bl_container_exec (const char *root, const char *id, const struct bl_process *p,
                   const struct bl_exec_io *io, int *code, struct bl_error *err)
{
  struct bl_state st;
  struct bl_spec *spec = NULL;
  char msg[BL_ERROR_MAX];
  int report[2], sock[2] = { -1, -1 }, wstatus, master = -1;
  ssize_t n;
  pid_t child;

  if (bl_state_load (root, id, &st, err) < 0)
    return -1;
  if (strcmp (st.status, "running") != 0)
    return bl_fail (err, 0, "cannot exec in container `%s` in status %s", id, st.status);
  if (bl_spec_load (st.bundle, &spec, err) < 0)
    return -1;
  /* The pid namespace applies to children, so enter it before forking.  */
  if (differs (st.pid, "pid") && join (st.pid, "pid", CLONE_NEWPID, err) < 0)
    return bl_spec_free (spec), -1;
  if (io && io->tty && socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sock) < 0)
    return bl_spec_free (spec), bl_fail (err, errno, "socketpair");
  if (pipe2 (report, O_CLOEXEC) < 0)
    return bl_spec_free (spec), bl_fail (err, errno, "pipe");
  block_forwarded ();
  child = fork ();
  if (child < 0)
    return sigprocmask (SIG_SETMASK, &saved_mask, NULL), bl_spec_free (spec),
           bl_fail (err, errno, "fork");
  if (child == 0)
    {
      if (sock[0] >= 0)
        close (sock[0]);
      exec_child (&st, spec, p, report[1], io, sock[1]);
    }
  forward_signals (child);
  close (report[1]);
  if (sock[1] >= 0)
    {
      close (sock[1]);
      master = recv_master (sock[0]);
      close (sock[0]);
    }
  bl_spec_free (spec);
  do
    n = read (report[0], msg, sizeof msg - 1);
  while (n < 0 && errno == EINTR);
  close (report[0]);
  if (master >= 0)
    {
      if (n <= 0)
        relay_tty (master, io->resize_fd);
      close (master);
    }
  if (wait_forwarding (child, &wstatus) < 0)
    return bl_fail (err, errno, "waitpid");
  if (n > 0)
    {
      msg[n] = '\0';
      return bl_fail (err, 0, "exec in `%s`: %s", id, msg);
    }
  *code = WIFSIGNALED (wstatus) ? 128 + WTERMSIG (wstatus) : WEXITSTATUS (wstatus);
  return 0;
}
