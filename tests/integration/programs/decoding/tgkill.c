/* tgkill(2): a thread group id, a thread id and a signal, all ints read from
 * the low half of their registers; a mismatched group is ESRCH.
 */
#include "oracle.h"

#include <signal.h>

static long k_tgkill(int tgid, int tid, int sig)
{
    return syscall(SYS_tgkill, junk(tgid), junk(tid), junk(sig), BAD, BAD, BAD);
}

int main(void)
{
    const pid_t pid = getpid();
    const pid_t tid = (pid_t) syscall(SYS_gettid);

    long rc = k_tgkill(pid, tid, 0);
    printf("tgkill(%d, %d, 0) = %s\n", pid, tid, sprintrc(rc));

    rc = k_tgkill(pid, tid, SIGCONT);
    printf("tgkill(%d, %d, SIGCONT) = %s\n", pid, tid, sprintrc(rc));

    rc = k_tgkill(pid, -1, 0);
    printf("tgkill(%d, -1, 0) = %s\n", pid, sprintrc(rc));

    rc = k_tgkill(-1, tid, 0);
    printf("tgkill(-1, %d, 0) = %s\n", tid, sprintrc(rc));

    /* pid 1 is no thread of this group. */
    rc = k_tgkill(1, tid, 0);
    printf("tgkill(1, %d, 0) = %s\n", tid, sprintrc(rc));

    rc = k_tgkill(pid, tid, 0xface);
    printf("tgkill(%d, %d, %d) = %s\n", pid, tid, 0xface, sprintrc(rc));

    rc = k_tgkill(pid, tid, -0xface);
    printf("tgkill(%d, %d, %d) = %s\n", pid, tid, -0xface, sprintrc(rc));

    return exited_with_0();
}
