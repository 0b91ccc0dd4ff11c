/* Error struct helpers and cleanup functions.  */
#include "error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int
bl_fail (struct bl_error *err, int errnum, const char *fmt, ...)
{
  va_list ap;
  char buf[BL_ERROR_MAX];

  va_start (ap, fmt);
  vsnprintf (buf, sizeof buf, fmt, ap);
  va_end (ap);
  if (err == NULL)
    return -1;
  err->errnum = errnum;
  if (errnum != 0)
    snprintf (err->msg, sizeof err->msg, "%s: %s", buf, strerror (errnum));
  else
    snprintf (err->msg, sizeof err->msg, "%s", buf);
  return -1;
}

int
bl_wrap (struct bl_error *err, const char *fmt, ...)
{
  va_list ap;
  char ctx[BL_ERROR_MAX];
  char old[BL_ERROR_MAX];

  if (err == NULL)
    return -1;
  va_start (ap, fmt);
  vsnprintf (ctx, sizeof ctx, fmt, ap);
  va_end (ap);
  memcpy (old, err->msg, sizeof old);
  snprintf (err->msg, sizeof err->msg, "%s: %s", ctx, old);
  return -1;
}

void
bl_freep (void *p)
{
  free (*(void **) p);
}

void
bl_closep (int *fd)
{
  if (*fd >= 0)
    {
      int saved = errno;
      close (*fd);
      errno = saved;
    }
}

void
bl_fclosep (void *f)
{
  FILE **fp = f;
  if (*fp)
    fclose (*fp);
}
