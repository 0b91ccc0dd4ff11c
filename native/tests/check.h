/* Minimal assertions for the C unit tests: a failing CHECK prints file:line and the
   expression, and the test program exits 1 at the end.  */
#ifndef BL_CHECK_H
#define BL_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failures;

#define CHECK(expr)                                                                                \
  do                                                                                               \
    {                                                                                              \
      if (!(expr))                                                                                 \
        {                                                                                          \
          fprintf (stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #expr);                \
          check_failures++;                                                                        \
        }                                                                                          \
    }                                                                                              \
  while (0)

#define CHECK_STR(a, b) CHECK ((a) != NULL && strcmp ((a), (b)) == 0)

#define CHECK_DONE(name)                                                                           \
  do                                                                                               \
    {                                                                                              \
      if (check_failures)                                                                          \
        fprintf (stderr, "%s: %d check(s) failed\n", name, check_failures);                        \
      return check_failures ? 1 : 0;                                                               \
    }                                                                                              \
  while (0)

#endif
