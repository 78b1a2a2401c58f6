/* setpgid(2): the pid and the process group are ints, read from the low
 * half of their registers; 0 stands for the caller.  The program leaves the
 * process group it was started in for one of its own, which it leads.
 */
#include "oracle.h"

#include <limits.h>

static long k_setpgid(int pid, int pgid)
{
    return syscall(SYS_setpgid, junk(pid), junk(pgid), BAD, BAD, BAD, BAD);
}

int main(void)
{
    const pid_t pid = getpid();

    long rc = k_setpgid(0, 0);
    printf("setpgid(0, 0) = %s\n", sprintrc(rc));

    rc = k_setpgid(pid, pid);
    printf("setpgid(%d, %d) = %s\n", pid, pid, sprintrc(rc));

    rc = k_setpgid(0, -1);
    printf("setpgid(0, -1) = %s\n", sprintrc(rc));

    /* No process has the largest pid. */
    rc = k_setpgid(INT_MAX, 0);
    printf("setpgid(%d, 0) = %s\n", INT_MAX, sprintrc(rc));

    /* A group of no process of the session. */
    rc = k_setpgid(0, INT_MAX);
    printf("setpgid(0, %d) = %s\n", INT_MAX, sprintrc(rc));

    return exited_with_0();
}
