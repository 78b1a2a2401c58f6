/* kill(2): the signal is an int, read from the low half of its register; a
 * signal prints by name (real-time ones as SIGRT_N), a number that is no
 * signal as a number; a pid is an int too.
 */
#include "oracle.h"

#include <limits.h>
#include <signal.h>

static void handler(int sig)
{
    (void) sig;
}

int main(void)
{
    const struct sigaction act = {.sa_handler = handler};
    if (sigaction(SIGUSR1, &act, NULL))
        fail("sigaction");
    const pid_t pid = getpid();

    long rc = syscall(SYS_kill, pid, JUNK | SIGUSR1);
    printf("kill(%d, SIGUSR1) = %s\n", pid, sprintrc(rc));

    rc = syscall(SYS_kill, JUNK | (unsigned int) pid, 0);
    printf("kill(%d, 0) = %s\n", pid, sprintrc(rc));

    rc = syscall(SYS_kill, 0, 0);
    printf("kill(0, 0) = %s\n", sprintrc(rc));

    /* No process has the largest pid (pid_max is at most 2^22). */
    rc = syscall(SYS_kill, INT_MAX, SIGTERM);
    printf("kill(%d, SIGTERM) = %s\n", INT_MAX, sprintrc(rc));

    rc = syscall(SYS_kill, INT_MAX, 40);
    printf("kill(%d, SIGRT_8) = %s\n", INT_MAX, sprintrc(rc));

    rc = syscall(SYS_kill, INT_MAX, 64);
    printf("kill(%d, SIGRT_32) = %s\n", INT_MAX, sprintrc(rc));

    rc = syscall(SYS_kill, INT_MAX, 65);
    printf("kill(%d, 65) = %s\n", INT_MAX, sprintrc(rc));

    const long big_pid = (long) 0xfacefeedbadc0dedUL;
    const long big_sig = (long) 0xdeadbeefcafef00dUL;
    rc = syscall(SYS_kill, big_pid, big_sig);
    printf("kill(%d, %d) = %s\n", (int) big_pid, (int) big_sig, sprintrc(rc));

    rc = syscall(SYS_kill, -1 * (long) INT_MAX, -1L);
    printf("kill(%d, -1) = %s\n", -INT_MAX, sprintrc(rc));

    return exited_with_0();
}
