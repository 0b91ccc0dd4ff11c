/* The default seccomp filter as a classic BPF program built from a deny list.  */
#include "seccomp.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

/* Docker's default profile denies these unless the container holds the matching
   capability; burstlet denies them always.  */
static const int denied[] = {
  SYS_acct, SYS_add_key, SYS_bpf, SYS_clock_adjtime, SYS_clock_settime, SYS_create_module,
  SYS_delete_module, SYS_finit_module, SYS_get_kernel_syms, SYS_get_mempolicy, SYS_init_module,
  SYS_ioperm, SYS_iopl, SYS_kcmp, SYS_kexec_file_load, SYS_kexec_load, SYS_keyctl,
  SYS_lookup_dcookie, SYS_mbind, SYS_mount, SYS_move_pages, SYS_name_to_handle_at,
  SYS_nfsservctl, SYS_open_by_handle_at, SYS_perf_event_open, SYS_pivot_root,
  SYS_process_vm_readv, SYS_process_vm_writev, SYS_ptrace, SYS_query_module, SYS_quotactl,
  SYS_reboot, SYS_request_key, SYS_set_mempolicy, SYS_setns, SYS_settimeofday, SYS_swapon,
  SYS_swapoff, SYS_sysfs, SYS__sysctl, SYS_umount2, SYS_unshare, SYS_uselib, SYS_userfaultfd,
  SYS_ustat, SYS_fsopen, SYS_fsconfig, SYS_fsmount, SYS_fspick, SYS_move_mount, SYS_open_tree,
};
#define N_DENIED (sizeof denied / sizeof *denied)

int
bl_seccomp_apply_default (bool no_new_privs, struct bl_error *err)
{
  struct sock_filter prog[N_DENIED + 8];
  size_t n = 0;
  (void) no_new_privs;
  prog[n++] = (struct sock_filter) BPF_STMT (BPF_LD | BPF_W | BPF_ABS,
                                             offsetof (struct seccomp_data, arch));
  prog[n++] = (struct sock_filter) BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
  prog[n++] = (struct sock_filter) BPF_STMT (BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
  prog[n++] = (struct sock_filter) BPF_STMT (BPF_LD | BPF_W | BPF_ABS,
                                             offsetof (struct seccomp_data, nr));
  /* x32 syscalls alias the x86_64 numbers with bit 30 set: refuse them all.  */
  prog[n++] = (struct sock_filter) BPF_JUMP (BPF_JMP | BPF_JGE | BPF_K, 0x40000000,
                                             (unsigned char) (N_DENIED + 1), 0);
  for (size_t i = 0; i < N_DENIED; i++)
    prog[n++] = (struct sock_filter) BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, (unsigned) denied[i],
                                               (unsigned char) (N_DENIED - i), 0);
  prog[n++] = (struct sock_filter) BPF_STMT (BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  prog[n++] = (struct sock_filter) BPF_STMT (BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM);

  struct sock_fprog fprog = { .len = (unsigned short) n, .filter = prog };
  if (prctl (PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog, 0, 0) < 0)
    return bl_fail (err, errno, "install seccomp filter");
  return 0;
}
