/* Unit tests of cri-log.c: F records per line, P records for long lines, flush at EOF.  */
#include "check.h"
#include "cri-log.h"

#include <stdlib.h>
#include <unistd.h>

/* Reads back what the log wrote to the pipe.  */
static size_t
drain (int fd, char *buf, size_t len)
{
  ssize_t n = read (fd, buf, len - 1);
  buf[n > 0 ? n : 0] = '\0';
  return n > 0 ? (size_t) n : 0;
}

/* Counts records of the form "<time> <stream> <tag> ".  */
static int
count (const char *text, const char *needle)
{
  int n = 0;
  for (const char *p = text; (p = strstr (p, needle)); p++)
    n++;
  return n;
}

int
main (void)
{
  static struct bl_cri_log log;
  static char buf[1 << 17], big[BL_CRI_LINE_MAX * 2 + 10];
  int fds[2];
  CHECK (pipe (fds) == 0);
  bl_cri_log_init (&log, fds[1]);

  CHECK (bl_cri_log_feed (&log, BL_STDOUT, "a\nb", 3, NULL) == 0);
  CHECK (bl_cri_log_feed (&log, BL_STDERR, "e\n", 2, NULL) == 0);
  CHECK (bl_cri_log_feed (&log, BL_STDOUT, "c\n", 2, NULL) == 0);
  drain (fds[0], buf, sizeof buf);
  CHECK (strstr (buf, " stdout F a\n") != NULL);
  CHECK (strstr (buf, " stderr F e\n") != NULL);
  CHECK (strstr (buf, " stdout F bc\n") != NULL);
  CHECK (buf[4] == '-' && strstr (buf, "Z stdout") != NULL);

  memset (big, 'x', sizeof big);
  big[sizeof big - 1] = '\n';
  CHECK (bl_cri_log_feed (&log, BL_STDOUT, big, sizeof big, NULL) == 0);
  drain (fds[0], buf, sizeof buf);
  CHECK (count (buf, " stdout P ") == 2);
  CHECK (count (buf, " stdout F ") == 1);

  CHECK (bl_cri_log_feed (&log, BL_STDOUT, "tail", 4, NULL) == 0);
  CHECK (bl_cri_log_flush (&log, BL_STDOUT, NULL) == 0);
  CHECK (bl_cri_log_flush (&log, BL_STDERR, NULL) == 0);
  drain (fds[0], buf, sizeof buf);
  CHECK (strstr (buf, " stdout F tail\n") != NULL && count (buf, "\n") == 1);
  CHECK_DONE ("test-cri-log");
}
