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

#endif
