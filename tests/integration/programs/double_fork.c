/* The daemon's double fork: the grandchild outlives its parent (the middle
 * process, which the original parent reaps) and is re-parented.
 *
 * Every run tells the same story: the middle process exits only once the
 * original parent sleeps in wait4 for it, so the parent's wait4 returns the
 * middle's pid and SIGCHLD is delivered after it (not before wait4, as when
 * the middle happens to exit first); the grandchild exits only once the
 * middle has been reaped. */
#include "handshake.h"

#include <stdlib.h>
#include <sys/wait.h>

int main(void)
{
    pid_t parent = getpid();
    pid_t middle = fork();
    if (middle == 0) {
        setsid();
        pid_t self = getpid();
        pid_t grandchild = fork();
        if (grandchild == 0) {
            wait_until_reaped(self); /* outlive the middle process, reaped by the original parent */
            _exit(3);
        }
        wait_until_sleeping(parent); /* exit while the parent waits for us */
        _exit(0);
    }
    int status;
    waitpid(middle, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
