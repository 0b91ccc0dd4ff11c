/* burstlet-pause: the pod sandbox holder.  It runs as pid 1 of the sandbox so the pod's
   network, IPC and UTS namespaces live as long as the pod, reaps orphaned zombies, and
   exits on SIGTERM/SIGINT.  Built static so it runs in any rootfs.  */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

/* Exits cleanly on a stop signal.  */
static void
on_stop (int sig)
{
  (void) sig;
  _exit (0);
}

/* Reaps every exited child.  */
static void
on_child (int sig)
{
  (void) sig;
  while (waitpid (-1, NULL, WNOHANG) > 0)
    ;
}

int
main (void)
{
  struct sigaction stop = { .sa_handler = on_stop }, child = { .sa_handler = on_child };
  sigaction (SIGTERM, &stop, NULL);
  sigaction (SIGINT, &stop, NULL);
  child.sa_flags = SA_NOCLDSTOP | SA_RESTART;
  sigaction (SIGCHLD, &child, NULL);
  for (;;)
    pause ();
}
