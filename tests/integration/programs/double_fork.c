/* The daemon's double fork: the grandchild outlives its parent (the middle
 * process, which the original parent reaps) and is re-parented. */
#include "handshake.h"

#include <stdlib.h>
#include <sys/wait.h>

int main(void)
{
    pid_t middle = fork();
    if (middle == 0) {
        setsid();
        pid_t self = getpid();
        pid_t grandchild = fork();
        if (grandchild == 0) {
            wait_until_reaped(self); /* outlive the middle process, reaped by the original parent */
            _exit(3);
        }
        _exit(0);
    }
    int status;
    waitpid(middle, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
