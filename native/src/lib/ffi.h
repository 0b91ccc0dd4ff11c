/* What the worker may call in-process through koffi: nothing here enters namespaces or
   forks.  Errors come back as a negative errno and a message in the caller's buffer
   (`msg`, `msg_len` bytes, NUL-terminated); the library keeps no state.  */
#ifndef BL_FFI_H
#define BL_FFI_H

#include <stddef.h>

/* Mounts an overlay at `target` from colon-separated `lower` dirs, `upper` and `work`
   (upper/work NULL for a read-only overlay).  Returns 0 or -errno.  */
int bl_mount_overlay (const char *lower, const char *upper, const char *work, const char *target,
                      char *msg, size_t msg_len);

/* Bind-mounts `source` on `target` (read-only when `readonly`).  Returns 0 or -errno.  */
int bl_mount_bind (const char *source, const char *target, int readonly, char *msg,
                   size_t msg_len);

/* mount(2) of a filesystem `type` (tmpfs, overlay, ...) from `source` on `target` with the
   MS_* `flags` and the filesystem's option string `data` (may be NULL).  Returns 0 or
   -errno.  */
int bl_mount_fs (const char *type, const char *source, const char *target, unsigned long flags,
                 const char *data, char *msg, size_t msg_len);

/* Unmounts `target` (lazily when `detach`).  Returns 0 or -errno.  */
int bl_unmount (const char *target, int detach, char *msg, size_t msg_len);

/* Unmounts everything stacked at `target` (a busy mount is detached) until the kernel says
   nothing is mounted there; nothing mounted, or no such path, is success.  */
int bl_unmount_all (const char *target, char *msg, size_t msg_len);

/* Container lifecycle calls that neither fork nor enter namespaces, so the worker runs them
   on a pool thread instead of a process: start, kill (of the init or, with `all`, of every
   process in the cgroup) and delete of a stopped container (`force` kills first and waits up
   to 10 s).  `sig` is a name or number as the CLI takes it.  The message is the CLI's
   (`container `x` does not exist: ...`).  Return 0 or -errno (-EINVAL when the error has
   no errno).  */
int bl_ffi_start (const char *root, const char *id, char *msg, size_t msg_len);
int bl_ffi_kill (const char *root, const char *id, const char *sig, int all, char *msg,
                 size_t msg_len);
int bl_ffi_delete (const char *root, const char *id, int force, char *msg, size_t msg_len);

/* rm -rf that stays on one file system (bl_remove_tree_onefs): a mount point inside fails
   with -EBUSY.  */
int bl_ffi_remove_tree (const char *path, char *msg, size_t msg_len);

/* bl_rmdir_tree: removes a directory of directories (a pod's cgroup); 1 gone, 0 left.  */
int bl_ffi_rmdir_tree (const char *path);

/* bl_write_tree: directories and small files from one encoded buffer (see fsutil.h).  */
int bl_ffi_write_tree (const unsigned char *buf, size_t len, char *msg, size_t msg_len);

/* pidfd_open(2).  Returns the fd (owned by the caller) or -errno.  */
int bl_pidfd_open (int pid, char *msg, size_t msg_len);

/* pidfd_send_signal(2): signals exactly the process the pidfd refers to, even if its pid
   number was reused.  Returns 0 or -errno (-ESRCH once it has exited).  */
int bl_pidfd_signal (int pidfd, int sig, char *msg, size_t msg_len);

#endif
