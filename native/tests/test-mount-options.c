/* Unit tests of bl_mount_options and bl_signal_from_name.  */
#include "check.h"
#include "container.h"
#include "rootfs.h"

#include <signal.h>
#include <sys/mount.h>

int
main (void)
{
  struct bl_mount_flags mf;
  char *opts[] = { "nosuid", "ro", "rbind", "mode=755", "size=65536k", "rprivate", "dev", NULL };
  CHECK (bl_mount_options (opts, 7, &mf, NULL) == 0);
  CHECK ((mf.flags & MS_NOSUID) && (mf.flags & MS_RDONLY) && !(mf.flags & MS_NODEV));
  CHECK (mf.bind && mf.recursive);
  CHECK (mf.propagation == (MS_PRIVATE | MS_REC));
  CHECK_STR (mf.data, "mode=755,size=65536k");

  char *rw[] = { "ro", "rw", "nodev", NULL };
  CHECK (bl_mount_options (rw, 3, &mf, NULL) == 0);
  CHECK (!(mf.flags & MS_RDONLY) && (mf.flags & MS_NODEV) && !mf.bind && mf.data[0] == '\0');

  CHECK (bl_signal_from_name ("SIGKILL") == SIGKILL);
  CHECK (bl_signal_from_name ("term") == SIGTERM);
  CHECK (bl_signal_from_name ("9") == 9);
  CHECK (bl_signal_from_name ("SIGNOPE") == -1);
  CHECK (bl_signal_from_name ("0") == -1);
  CHECK_DONE ("test-mount-options");
}
