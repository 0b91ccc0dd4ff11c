/* The default seccomp profile, in the spirit of Docker's: dangerous syscalls fail with
   EPERM, foreign architectures are killed.  x86_64 only.  The filter is a static table, so
   nothing is compiled per container.  */
#ifndef BL_SECCOMP_H
#define BL_SECCOMP_H

#include <stdbool.h>

#include "error.h"

/* Installs the default filter on the calling thread.  Without no_new_privs the caller must
   still hold CAP_SYS_ADMIN.  */
int bl_seccomp_apply_default (bool no_new_privs, struct bl_error *err);

#endif
