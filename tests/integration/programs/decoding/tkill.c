/* tkill(2): a thread id and a signal, both ints read from the low half of
 * their registers; SIGCONT to oneself is harmless (its default action
 * continues a process that runs).
 */
#include "oracle.h"

#include <signal.h>

int main(void)
{
    const pid_t tid = (pid_t) syscall(SYS_gettid);

    long rc = syscall(SYS_tkill, junk(tid), junk(0), BAD, BAD, BAD, BAD);
    printf("tkill(%d, 0) = %s\n", tid, sprintrc(rc));

    rc = syscall(SYS_tkill, junk(tid), junk(SIGCONT), BAD, BAD, BAD, BAD);
    printf("tkill(%d, SIGCONT) = %s\n", tid, sprintrc(rc));

    rc = syscall(SYS_tkill, junk(-1), junk(0xface), BAD, BAD, BAD, BAD);
    printf("tkill(-1, %d) = %s\n", 0xface, sprintrc(rc));

    rc = syscall(SYS_tkill, junk(tid), junk(-0xface), BAD, BAD, BAD, BAD);
    printf("tkill(%d, %d) = %s\n", tid, -0xface, sprintrc(rc));

    rc = syscall(SYS_tkill, junk(0), junk(SIGCONT), BAD, BAD, BAD, BAD);
    printf("tkill(0, SIGCONT) = %s\n", sprintrc(rc));

    return exited_with_0();
}
