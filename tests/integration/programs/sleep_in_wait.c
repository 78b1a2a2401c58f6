/* A known wait: the child sleeps 200 ms in nanosleep(2) and exits; the parent blocks in wait4(2) meanwhile.
 *
 * The trace must show the child's clock_nanosleep lasting at least the 200 ms it asked for, and the
 * parent's wait4 at least as long: a sleep's lower bound is the kernel's promise (nanosleep(2):
 * "suspends ... until at least the time specified"); the upper bound depends on the machine's load.
 */
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(void) {
    pid_t child = fork();
    if (child < 0)
        return 1;
    if (child == 0) {
        struct timespec nap = {0, 200 * 1000 * 1000};
        while (nanosleep(&nap, &nap) != 0) {
        }
        _exit(0);
    }
    int status;
    if (waitpid(child, &status, 0) != child)
        return 1;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
