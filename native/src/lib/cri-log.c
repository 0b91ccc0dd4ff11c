/* CRI log records from stdout/stderr pipe data.  */
#include "cri-log.h"
#include "state.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>

void
bl_cri_log_init (struct bl_cri_log *l, int fd)
{
  l->fd = fd;
  l->len[0] = l->len[1] = 0;
}

/* Writes one record: header, text and newline in a single writev.  */
static int
emit (struct bl_cri_log *l, enum bl_stream s, const char *text, size_t n, char tag,
      struct bl_error *err)
{
  char head[96], now[64];
  int hl;
  bl_rfc3339_nano (now, sizeof now);
  hl = snprintf (head, sizeof head, "%s %s %c ", now, s == BL_STDOUT ? "stdout" : "stderr", tag);
  struct iovec iov[3] = { { head, (size_t) hl }, { (void *) text, n }, { "\n", 1 } };
  if (writev (l->fd, iov, 3) < 0)
    return bl_fail (err, errno, "write container log");
  return 0;
}

int
bl_cri_log_feed (struct bl_cri_log *l, enum bl_stream s, const char *data, size_t n,
                 struct bl_error *err)
{
  char *buf = l->buf[s];
  while (n > 0)
    {
      const char *nl = memchr (data, '\n', n);
      size_t take = nl ? (size_t) (nl - data) : n;
      size_t room = BL_CRI_LINE_MAX - l->len[s];
      if (take >= room)
        {
          /* The line outgrows the buffer: flush what we have as a partial record.  */
          memcpy (buf + l->len[s], data, room);
          if (emit (l, s, buf, BL_CRI_LINE_MAX, 'P', err) < 0)
            return -1;
          l->len[s] = 0;
          data += room;
          n -= room;
          continue;
        }
      memcpy (buf + l->len[s], data, take);
      l->len[s] += take;
      data += take;
      n -= take;
      if (nl)
        {
          if (emit (l, s, buf, l->len[s], 'F', err) < 0)
            return -1;
          l->len[s] = 0;
          data++;
          n--;
        }
    }
  return 0;
}

int
bl_cri_log_flush (struct bl_cri_log *l, enum bl_stream s, struct bl_error *err)
{
  size_t len = l->len[s];
  if (len == 0)
    return 0;
  l->len[s] = 0;
  return emit (l, s, l->buf[s], len, 'F', err);
}
