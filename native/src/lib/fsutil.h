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

/* rm -rf of `path` (a missing path is fine) that never leaves the file system it starts on:
   symlinks are removed, not followed, and a mount point inside (another file system or a bind
   mount) stops it with EBUSY, leaving that mount and its parents in place.  */
int bl_remove_tree_onefs (const char *path, struct bl_error *err);

/* rmdir of `path` and, when it holds directories (a cgroup with children), of those first.
   Only directories go: a directory still holding a file, or a cgroup still busy, stays.
   Returns 1 when `path` is gone (or never was), 0 when it is still there.  */
int bl_rmdir_tree (const char *path);

/* Unmounts everything stacked at `target` (a busy mount is detached); nothing mounted there
   is fine.  */
int bl_unmount_all_at (const char *target, struct bl_error *err);

/* Runs the steps described by `buf` (`len` bytes) in order, stopping at the first failure: a
   pod's or container's directories, small files and mounts in one call.  Each record is
   little-endian: u8 kind, u32 mode, u32 path length, path, u32 data length, data.  Kinds:
   'd' mkdir -p (an existing directory is fine; `mode` for the ones created), 'f' write a file
   (created with `mode` or truncated), 'x' write a file that must not exist yet (EEXIST),
   'm' mount(2) at path with `mode` as MS_* flags and data "type\0source\0options" (no bind
   remount), 'u' unmount everything at path (bl_unmount_all_at), 'r' rm -rf of path
   (bl_remove_tree_onefs), 'o' write a file in place (created with `mode` if missing, never
   truncated to zero first; owner, mode and extended attributes reset), 'C' recycle the
   directory at path, data "spares\0max\0keep\0keep...": everything in it but the kept names
   is removed, a kept directory emptied and reset to `mode` ("name/": its tree kept,
   directories reset, regular files truncated and reset, the rest and whatever passes 64
   entries removed), a kept file left for an 'o' step; then it is renamed into the directory
   `spares` as "s-<inode>" (a directory that cannot be recycled, or finds `max` spares there
   already, is removed as 'r' does), 'T' take a spare: data is a spare directory, one of whose
   spares is renamed to path, or mkdir -p path (`mode`) when there is none.  Reusing
   directories instead of deleting and making them spares the host's file system inode
   allocations and block frees.  Paths hold no NUL.  Returns 0, or -1 with the path in `err`; a
   malformed buffer is EINVAL.  */
int bl_write_tree (const unsigned char *buf, size_t len, struct bl_error *err);

/* Calls `fn(dfd, name, type, arg)` for each entry of the open directory `dfd` but . and ..,
   `type` being getdents' d_type (DT_UNKNOWN where the file system does not tell). Reads with
   getdents64 into a stack buffer: no fdopendir (its fstat, fcntl and heap DIR). Entries may be
   removed by `fn` as it goes, as with readdir. Returns 0, fn's first negative result (fn
   returns -1 on failure), or BL_READDIR_FAILED with errno set when reading fails.  */
#define BL_READDIR_FAILED (-2)
int bl_each_entry (int dfd, int (*fn) (int dfd, const char *name, unsigned char type, void *arg), void *arg);

/* One-file-system removal, shared by the tree removal and the file batch: `arg` is a
   struct bl_onefs (the tree's device, its top path for messages, where errors go).  */
struct bl_onefs
{
  dev_t dev;
  const char *top;
  struct bl_error *err;
};
int bl_remove_onefs_at (int dfd, const char *name, unsigned char type, void *arg);

/* True when the open directory `fd` is the root of a mount or on another device than `dev`.  */
int bl_is_mount_root (int fd, dev_t dev);

/* Writes all `n` bytes of `buf` to `fd` (retrying short writes and EINTR).  Returns 0, or -1
   with errno set when the fd fails (EPIPE: the reader is gone).  */
int bl_write_all (int fd, const void *buf, size_t n);

#endif
