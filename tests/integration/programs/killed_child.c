/* A child killed by a signal and reaped: wait4 reports WIFSIGNALED, SIGTERM. */
#include "handshake.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

int main(void)
{
    pid_t child = fork();
    if (child == 0) {
        for (;;)
            pause();
    }
    wait_until_sleeping(child);
    kill(child, SIGTERM);
    int status;
    waitpid(child, &status, 0);
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM ? 0 : 1;
}
