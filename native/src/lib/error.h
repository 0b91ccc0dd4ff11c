/* Errors of the library: every fallible function returns a negative int and fills a
   struct bl_error (errno + message naming the call and the path); callers wrap it with
   context on the way up.  The library never prints and never exits.  */
#ifndef BL_ERROR_H
#define BL_ERROR_H

#include <stdlib.h>
#include <unistd.h>

#define BL_ERROR_MAX 1024

/* Filled by a failing call; errnum is 0 for input errors that carry no errno.  */
struct bl_error
{
  int errnum;
  char msg[BL_ERROR_MAX];
};

/* Sets *err to the formatted message, with ": strerror(errnum)" appended when errnum is
   not 0.  Always returns -1 so callers can `return bl_fail (...)`.  */
int bl_fail (struct bl_error *err, int errnum, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

/* Prefixes "context: " to the message already in *err.  Returns -1.  */
int bl_wrap (struct bl_error *err, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

void bl_freep (void *p);
void bl_closep (int *fd);
void bl_fclosep (void *f);

#define cleanup_free __attribute__ ((cleanup (bl_freep)))
#define cleanup_close __attribute__ ((cleanup (bl_closep)))
#define cleanup_fclose __attribute__ ((cleanup (bl_fclosep)))

/* Moves ownership out of a cleanup variable.  */
#define bl_steal(p)                                                                                \
  ({                                                                                               \
    __typeof__ (p) _tmp = (p);                                                                     \
    (p) = 0;                                                                                       \
    _tmp;                                                                                          \
  })

#endif
