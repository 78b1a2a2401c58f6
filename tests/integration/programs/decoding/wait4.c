/* wait4(2): the pid and the options are ints, read from the low half of their
 * registers.  The status prints decoded ("[{WIFEXITED(s) && WEXITSTATUS(s) ==
 * 42}]") once the kernel wrote it, as its address where it did not (a
 * WNOHANG call that found no change, or one that failed); the resource usage
 * prints its times then "...".  The children are made by raw clone(SIGCHLD)
 * calls, whose lines are the program's too; each child waits on a pipe, so
 * that the program decides when it ends, and its SIGCHLDs are held pending
 * (oracle.h).
 */
#include "oracle.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "released_child.h"

static long k_wait4(pid_t pid, int *status, int options, struct rusage *usage)
{
    return syscall(SYS_wait4, junk(pid), status, junk(options), usage, BAD, BAD);
}

static const char *rusage_text(const struct rusage *usage)
{
    static char text[256];
    snprintf(text, sizeof(text), "{ru_utime={tv_sec=%lld, tv_usec=%llu}, ru_stime={tv_sec=%lld, tv_usec=%llu}, ...}",
             (long long) usage->ru_utime.tv_sec, (unsigned long long) usage->ru_utime.tv_usec,
             (long long) usage->ru_stime.tv_sec, (unsigned long long) usage->ru_stime.tv_usec);
    return text;
}

int main(void)
{
    hold_sigchld();
    int *const status = tail_alloc(sizeof(*status));
    struct rusage *const usage = tail_alloc(sizeof(*usage));

    pid_t pid = child(42, 0);
    long rc = k_wait4(pid, status, WNOHANG | __WALL, NULL);
    printf("wait4(%d, %p, WNOHANG|__WALL, NULL) = %s\n", pid, status, sprintrc(rc));
    rc = k_wait4(pid, status, WNOHANG | __WALL, usage);
    printf("wait4(%d, %p, WNOHANG|__WALL, %p) = %s\n", pid, status, usage, sprintrc(rc));
    release();
    rc = k_wait4(pid, status, 0, usage);
    printf("wait4(%d, [{WIFEXITED(s) && WEXITSTATUS(s) == %d}], 0, %s) = %s\n", pid, WEXITSTATUS(*status),
           rusage_text(usage), sprintrc(rc));

    pid = child(1, SIGUSR1);
    release();
    rc = k_wait4(pid, status, __WALL, usage);
    printf("wait4(%d, [{WIFSIGNALED(s) && WTERMSIG(s) == SIGUSR1}], __WALL, %s) = %s\n", pid, rusage_text(usage),
           sprintrc(rc));

    /* Stopped, continued, then ended. */
    pid = child(0, SIGSTOP);
    rc = k_wait4(pid, status, WSTOPPED, usage);
    printf("wait4(%d, [{WIFSTOPPED(s) && WSTOPSIG(s) == SIGSTOP}], WSTOPPED, %s) = %s\n", pid, rusage_text(usage),
           sprintrc(rc));
    if (kill(pid, SIGCONT))
        fail("kill");
    rc = k_wait4(pid, status, WCONTINUED, usage);
    printf("wait4(%d, [{WIFCONTINUED(s)}], WCONTINUED, %s) = %s\n", pid, rusage_text(usage), sprintrc(rc));
    release();
    rc = k_wait4(pid, status, 0, NULL);
    printf("wait4(%d, [{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = %s\n", pid, sprintrc(rc));

    pid = child(3, 0);
    release();
    rc = k_wait4(pid, NULL, 0, NULL);
    printf("wait4(%d, NULL, 0, NULL) = %s\n", pid, sprintrc(rc));

    /* The child is reaped, but its status cannot be written. */
    void *const bad = unmapped();
    pid = child(4, 0);
    release();
    rc = k_wait4(pid, bad, 0, NULL);
    printf("wait4(%d, %p, 0, NULL) = %s\n", pid, bad, sprintrc(rc));

    rc = k_wait4(-1, status, WNOHANG | WSTOPPED | __WALL, usage);
    printf("wait4(-1, %p, WNOHANG|WSTOPPED|__WALL, %p) = %s\n", status, usage, sprintrc(rc));

    rc = k_wait4(-1, NULL, 0x10000000, NULL);
    printf("wait4(-1, NULL, 0x10000000 /* W??? */, NULL) = %s\n", sprintrc(rc));

    return exited_with_0();
}
