/* A child killed by a signal and reaped: wait4 reports WIFSIGNALED, SIGTERM.
 *
 * Every run tells the same story: the parent kills the child once it sleeps
 * in pause, then reaps it; SIGCHLD is delivered after wait4 has returned.
 * The parent sends the kill before it waits, so no handshake can make the
 * child die while the parent sleeps in wait4: the child may die before the
 * parent enters wait4 or during it.  The parent therefore blocks SIGCHLD
 * until it has reaped the child: a blocked signal stays pending until it is
 * unblocked (signal(7), "Signal mask and pending signals"), and a tracer sees
 * it only when it is delivered (ptrace(2), "Signal-delivery-stop"), so
 * whichever comes first, the tracer sees wait4 return and then SIGCHLD. */
#include "handshake.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

int main(void)
{
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    pid_t child = fork();
    if (child == 0) {
        for (;;)
            pause();
    }
    wait_until_sleeping(child);
    kill(child, SIGTERM);
    int status;
    waitpid(child, &status, 0);
    sigprocmask(SIG_UNBLOCK, &chld, NULL); /* SIGCHLD is delivered here */
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM ? 0 : 1;
}
