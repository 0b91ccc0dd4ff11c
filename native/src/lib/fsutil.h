/* Small file helpers shared by the library.  */
#ifndef BL_FSUTIL_H
#define BL_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

#include "error.h"

/* Writes `value` to `path` (O_WRONLY|O_TRUNC, no create unless `create`).  */
int bl_write_file (const char *path, const char *value, int create, struct bl_error *err);

/* Reads up to `len - 1` bytes of `path` into buf, NUL-terminated.  Returns bytes read.  */
ssize_t bl_read_file (const char *path, char *buf, size_t len, struct bl_error *err);

/* mkdir -p with `mode`; existing directories are fine.  */
int bl_mkdir_p (const char *path, mode_t mode, struct bl_error *err);

/* Writes `value` atomically to dir/name (temp file + rename).  */
int bl_write_atomic (const char *dir, const char *name, const char *value, struct bl_error *err);

/* Writes all `n` bytes of `buf` to `fd` (retrying short writes and EINTR).  Returns 0, or -1
   with errno set when the fd fails (EPIPE: the reader is gone).  */
int bl_write_all (int fd, const void *buf, size_t n);

#endif
