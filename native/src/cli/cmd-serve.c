/* `serve`: run runtime commands on request, for a long-lived driver (the worker).

   Forking the worker (a Node process of a few hundred MB) for every create/start/kill/delete
   costs 10-50 ms of its main thread in page-table copies; forking this small process costs
   well under one.  The driver starts `burstlet-runtime serve` once and writes requests on its
   stdin; for each one serve forks, the child runs the command line exactly as `main` would
   (same code, no exec) with its stdout/stderr on pipes, and serve answers on its stdout when
   the child has exited.  Requests run concurrently; answers come in completion order.

   Frames, integers little-endian:
     request  u32 len | u32 id | argv as NUL-terminated strings   (len counts what follows it)
     answer   u32 len | u32 id | i32 status | u32 out_len | stdout bytes | stderr bytes
   status is the exit code, or 128+signal when the child was killed.  EOF on stdin: serve
   answers what is in flight and exits 0.

   A child may answer before it exits: it writes its status as a u32 on fd 3 (`create` does,
   lib/create.c, and stays on as the container's monitor: one process fewer per
   container).  serve then answers with what the child's stdout/stderr hold and forgets it;
   the exit of such a child is reaped and not answered again.  */
#include "cli.h"
#include "../lib/container.h"
#include "../lib/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <sys/prctl.h>
#include <unistd.h>

#define MAX_FRAME (1u << 20)
#define MAX_ARGS 4096

struct buf
{
  char *data;
  size_t len, cap;
};

struct job
{
  uint32_t id;
  pid_t pid;
  int out_fd, err_fd, done_fd; /* -1 once closed */
  struct buf out, err;
};

struct serve
{
  struct job *jobs;
  size_t njobs, cap;
  struct buf in; /* unparsed request bytes */
  int sfd;
  int in_open;
};

static void
die (const char *what)
{
  fprintf (stderr, "burstlet-runtime serve: %s: %s\n", what, strerror (errno));
  exit (1);
}

static void
buf_add (struct buf *b, const void *p, size_t n)
{
  if (b->len + n > b->cap)
    {
      size_t cap = b->cap ? b->cap : 4096;
      while (cap < b->len + n)
        cap *= 2;
      if (!(b->data = realloc (b->data, cap)))
        die ("realloc");
      b->cap = cap;
    }
  memcpy (b->data + b->len, p, n);
  b->len += n;
}

static void
put_u32 (char *p, uint32_t v)
{
  p[0] = (char) (v & 0xff), p[1] = (char) ((v >> 8) & 0xff);
  p[2] = (char) ((v >> 16) & 0xff), p[3] = (char) ((v >> 24) & 0xff);
}

static uint32_t
get_u32 (const char *p)
{
  const unsigned char *u = (const unsigned char *) p;
  return (uint32_t) u[0] | (uint32_t) u[1] << 8 | (uint32_t) u[2] << 16 | (uint32_t) u[3] << 24;
}

/* Writes an answer; a driver that went away ends the server.  */
static void
write_all (int fd, const char *p, size_t n)
{
  if (bl_write_all (fd, p, n) < 0)
    die ("write answer");
}

/* Reads what a job's pipe holds now (non-blocking); closes it at EOF.  */
static void
drain (int *fd, struct buf *b)
{
  char chunk[16384];
  while (*fd >= 0)
    {
      ssize_t n = read (*fd, chunk, sizeof chunk);
      if (n > 0)
        buf_add (b, chunk, (size_t) n);
      else if (n < 0 && errno == EINTR)
        continue;
      else
        {
          if (n == 0 || errno != EAGAIN)
            close (*fd), *fd = -1;
          return;
        }
    }
}

/* Sends the answer of a job that exited or gave its status early, and forgets it.  */
static void
answer (struct serve *s, size_t i, int code)
{
  struct job *j = &s->jobs[i];
  char head[16];
  /* Everything the child wrote is in its pipes now; a grandchild keeping them open (it
     should not) must not hold the answer back.  */
  drain (&j->out_fd, &j->out);
  drain (&j->err_fd, &j->err);
  if (j->out_fd >= 0)
    close (j->out_fd);
  if (j->err_fd >= 0)
    close (j->err_fd);
  if (j->done_fd >= 0)
    close (j->done_fd);
  put_u32 (head, (uint32_t) (12 + j->out.len + j->err.len));
  put_u32 (head + 4, j->id);
  put_u32 (head + 8, (uint32_t) code);
  put_u32 (head + 12, (uint32_t) j->out.len);
  write_all (1, head, 16);
  if (j->out.len)
    write_all (1, j->out.data, j->out.len);
  if (j->err.len)
    write_all (1, j->err.data, j->err.len);
  free (j->out.data), free (j->err.data);
  s->jobs[i] = s->jobs[--s->njobs];
}

/* Reads a job's early status from its done pipe: answers with it, or notes the pipe's EOF.  */
static void
read_done (struct serve *s, size_t i)
{
  struct job *j = &s->jobs[i];
  char b[4];
  ssize_t n;
  do
    n = read (j->done_fd, b, sizeof b);
  while (n < 0 && errno == EINTR);
  if (n < 0 && errno == EAGAIN)
    return;
  if (n == (ssize_t) sizeof b)
    {
      answer (s, i, (int) get_u32 (b));
      return;
    }
  close (j->done_fd); /* closed without a status (or a short one): the exit answers */
  j->done_fd = -1;
}

/* In the forked child: plain signal state, stdio on the pipes, the done pipe on fd 3, no
   other inherited fds.  */
static _Noreturn void
child_run (int out, int err, int done, int argc, char **argv)
{
  sigset_t none;
  int null = open ("/dev/null", O_RDONLY);
  prctl (PR_SET_NAME, "bl-serve-call", 0, 0, 0);
  sigemptyset (&none);
  signal (SIGCHLD, SIG_DFL);
  signal (SIGPIPE, SIG_DFL);
  sigprocmask (SIG_SETMASK, &none, NULL);
  if (null < 0 || dup2 (null, 0) < 0 || dup2 (out, 1) < 0 || dup2 (err, 2) < 0 || dup2 (done, 3) < 0
      || fcntl (3, F_SETFD, FD_CLOEXEC) < 0)
    _exit (125);
  if (close_range (4, ~0U, 0) < 0)
    for (int fd = 4; fd < 1024; fd++)
      close (fd);
  bl_create_done_fd = 3;
  exit (bl_cli_main (argc, argv));
}

/* Starts the command of one request frame (id + NUL-terminated args).  */
static void
start_job (struct serve *s, uint32_t id, char *p, size_t n)
{
  char *argv[MAX_ARGS + 2];
  int argc = 1, out[2], err[2], done[2];
  pid_t pid;
  argv[0] = "burstlet-runtime";
  for (size_t off = 0; off < n && argc <= MAX_ARGS;)
    {
      size_t l = strnlen (p + off, n - off);
      if (off + l >= n)
        break; /* unterminated tail: ignored */
      argv[argc++] = p + off;
      off += l + 1;
    }
  argv[argc] = NULL;
  if (pipe2 (out, O_CLOEXEC) < 0 || pipe2 (err, O_CLOEXEC) < 0 || pipe2 (done, O_CLOEXEC) < 0)
    die ("pipe");
  fflush (stdout);
  pid = fork ();
  if (pid < 0)
    die ("fork");
  if (pid == 0)
    child_run (out[1], err[1], done[1], argc, argv);
  close (out[1]), close (err[1]), close (done[1]);
  fcntl (out[0], F_SETFL, O_NONBLOCK);
  fcntl (err[0], F_SETFL, O_NONBLOCK);
  fcntl (done[0], F_SETFL, O_NONBLOCK);
  if (s->njobs == s->cap)
    {
      s->cap = s->cap ? s->cap * 2 : 64;
      if (!(s->jobs = realloc (s->jobs, s->cap * sizeof *s->jobs)))
        die ("realloc");
    }
  s->jobs[s->njobs++] = (struct job){ .id = id, .pid = pid, .out_fd = out[0], .err_fd = err[0], .done_fd = done[0] };
}

/* Reads stdin and starts every complete request in it.  */
static void
read_requests (struct serve *s)
{
  char chunk[65536];
  ssize_t n = read (0, chunk, sizeof chunk);
  size_t off = 0;
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return;
  if (n <= 0)
    {
      s->in_open = 0;
      return;
    }
  buf_add (&s->in, chunk, (size_t) n);
  while (s->in.len - off >= 8)
    {
      uint32_t len = get_u32 (s->in.data + off);
      if (len < 4 || len > MAX_FRAME)
        {
          errno = EPROTO;
          die ("bad request frame");
        }
      if (s->in.len - off - 4 < len)
        break;
      start_job (s, get_u32 (s->in.data + off + 4), s->in.data + off + 8, len - 4);
      off += 4 + len;
    }
  memmove (s->in.data, s->in.data + off, s->in.len - off);
  s->in.len -= off;
}

/* Reaps exited children and answers their requests (a child that answered early is not a
   job any more: its exit is only reaped).  */
static void
reap (struct serve *s)
{
  struct signalfd_siginfo si;
  int status;
  pid_t pid;
  while (read (s->sfd, &si, sizeof si) == (ssize_t) sizeof si)
    ;
  while ((pid = waitpid (-1, &status, WNOHANG)) > 0)
    for (size_t i = 0; i < s->njobs; i++)
      if (s->jobs[i].pid == pid)
        {
          answer (s, i, WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status));
          break;
        }
}

int
bl_cmd_serve (struct bl_cli *cli, int argc, char **argv)
{
  struct serve s = { .in_open = 1 };
  struct pollfd *fds = NULL;
  size_t fcap = 0;
  sigset_t mask;
  (void) cli, (void) argv;
  if (argc != 1)
    return bl_cli_usage ("serve", "serve");
  signal (SIGPIPE, SIG_IGN);
  sigemptyset (&mask);
  sigaddset (&mask, SIGCHLD);
  if (sigprocmask (SIG_BLOCK, &mask, NULL) < 0
      || (s.sfd = signalfd (-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
    die ("signalfd");
  while (s.in_open || s.njobs > 0)
    {
      size_t nf = 0;
      if (fcap < 2 + 3 * s.njobs)
        {
          fcap = 2 * (2 + 3 * s.njobs);
          if (!(fds = realloc (fds, fcap * sizeof *fds)))
            die ("realloc");
        }
      fds[nf++] = (struct pollfd){ .fd = s.sfd, .events = POLLIN };
      fds[nf++] = (struct pollfd){ .fd = s.in_open ? 0 : -1, .events = POLLIN };
      for (size_t i = 0; i < s.njobs; i++)
        {
          fds[nf++] = (struct pollfd){ .fd = s.jobs[i].out_fd, .events = POLLIN };
          fds[nf++] = (struct pollfd){ .fd = s.jobs[i].err_fd, .events = POLLIN };
          fds[nf++] = (struct pollfd){ .fd = s.jobs[i].done_fd, .events = POLLIN };
        }
      if (poll (fds, nf, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          die ("poll");
        }
      /* Pipes first, so output is read before its job is answered.  */
      size_t polled = s.njobs;
      for (size_t i = 0; i < polled; i++)
        {
          if (fds[2 + 3 * i].revents)
            drain (&s.jobs[i].out_fd, &s.jobs[i].out);
          if (fds[3 + 3 * i].revents)
            drain (&s.jobs[i].err_fd, &s.jobs[i].err);
        }
      /* Early answers, last job first: answer() moves the last job into the slot it frees.  */
      for (size_t i = polled; i-- > 0;)
        if (fds[4 + 3 * i].revents && s.jobs[i].done_fd == fds[4 + 3 * i].fd)
          read_done (&s, i);
      if (fds[1].revents)
        read_requests (&s);
      if (fds[0].revents)
        reap (&s);
    }
  return 0;
}
