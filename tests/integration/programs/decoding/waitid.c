/* waitid(2): the id type, the id and the options are ints, read from the low
 * half of their registers.  The siginfo prints decoded once the kernel wrote
 * it ("{}" where a WNOHANG call found no change: si_signo 0), as its address
 * where the call failed; the resource usage prints its times then "..." (as
 * the memory holds them: the kernel writes none where it found no change).
 * The children are made by raw clone(SIGCHLD) calls, whose lines are the
 * program's too; each child waits on a pipe, so that the program decides
 * when it ends, and its SIGCHLDs are held pending (oracle.h).
 */
#include "oracle.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "released_child.h"

static long k_waitid(int idtype, int id, siginfo_t *info, int options, struct rusage *usage)
{
    return syscall(SYS_waitid, junk(idtype), junk(id), info, junk(options), usage, BAD);
}

static const char *rusage_text(const struct rusage *usage)
{
    static char text[256];
    snprintf(text, sizeof(text), "{ru_utime={tv_sec=%lld, tv_usec=%llu}, ru_stime={tv_sec=%lld, tv_usec=%llu}, ...}",
             (long long) usage->ru_utime.tv_sec, (unsigned long long) usage->ru_utime.tv_usec,
             (long long) usage->ru_stime.tv_sec, (unsigned long long) usage->ru_stime.tv_usec);
    return text;
}

static const char *siginfo_text(const siginfo_t *info, const char *code, const char *status)
{
    static char text[256];
    snprintf(text, sizeof(text),
             "{si_signo=SIGCHLD, si_code=%s, si_pid=%d, si_uid=%u, si_status=%s, si_utime=%s, si_stime=%s}", code,
             info->si_pid, (unsigned) info->si_uid, status, clock_t_text(info->si_utime),
             clock_t_text(info->si_stime));
    return text;
}

int main(void)
{
    hold_sigchld();
    siginfo_t *const info = tail_alloc(sizeof(*info));
    struct rusage *const usage = tail_alloc(sizeof(*usage));
    memset(info, 0, sizeof(*info));

    pid_t pid = child(42, 0);
    long rc = k_waitid(P_PID, pid, NULL, WNOHANG | WEXITED, NULL);
    printf("waitid(P_PID, %d, NULL, WNOHANG|WEXITED, NULL) = %s\n", pid, sprintrc(rc));
    rc = k_waitid(P_PID, pid, info, WNOHANG | WEXITED | WSTOPPED, usage);
    printf("waitid(P_PID, %d, {}, WNOHANG|WEXITED|WSTOPPED, %s) = %s\n", pid, rusage_text(usage), sprintrc(rc));
    release();
    rc = k_waitid(P_PID, pid, info, WEXITED, usage);
    printf("waitid(P_PID, %d, %s, WEXITED, %s) = %s\n", pid, siginfo_text(info, "CLD_EXITED", "42"),
           rusage_text(usage), sprintrc(rc));

    pid = child(1, SIGUSR1);
    release();
    rc = k_waitid(P_PID, pid, info, WEXITED, NULL);
    printf("waitid(P_PID, %d, %s, WEXITED, NULL) = %s\n", pid, siginfo_text(info, "CLD_KILLED", "SIGUSR1"),
           sprintrc(rc));

    /* Stopped, continued, then ended. */
    pid = child(0, SIGSTOP);
    rc = k_waitid(P_PID, pid, info, WSTOPPED, NULL);
    printf("waitid(P_PID, %d, %s, WSTOPPED, NULL) = %s\n", pid, siginfo_text(info, "CLD_STOPPED", "SIGSTOP"),
           sprintrc(rc));
    if (kill(pid, SIGCONT))
        fail("kill");
    rc = k_waitid(P_PID, pid, info, WCONTINUED, NULL);
    printf("waitid(P_PID, %d, %s, WCONTINUED, NULL) = %s\n", pid, siginfo_text(info, "CLD_CONTINUED", "SIGCONT"),
           sprintrc(rc));
    release();
    rc = k_waitid(P_ALL, 0, info, WEXITED, NULL);
    printf("waitid(P_ALL, 0, %s, WEXITED, NULL) = %s\n", siginfo_text(info, "CLD_EXITED", "0"), sprintrc(rc));

    /* The child is reaped, but its siginfo cannot be written. */
    void *const bad = unmapped();
    pid = child(4, 0);
    release();
    rc = k_waitid(P_PID, pid, bad, WEXITED, NULL);
    printf("waitid(P_PID, %d, %p, WEXITED, NULL) = %s\n", pid, bad, sprintrc(rc));

    const pid_t pgid = getpgid(0);
    rc = k_waitid(P_PGID, pgid, info, WEXITED, usage);
    printf("waitid(P_PGID, %d, %p, WEXITED, %p) = %s\n", pgid, info, usage, sprintrc(rc));

    rc = k_waitid(P_ALL, -1, info, WEXITED | WSTOPPED, usage);
    printf("waitid(P_ALL, -1, %p, WEXITED|WSTOPPED, %p) = %s\n", info, usage, sprintrc(rc));

    rc = k_waitid(42, 0, NULL, WEXITED, NULL);
    printf("waitid(0x2a /* P_??? */, 0, NULL, WEXITED, NULL) = %s\n", sprintrc(rc));

    rc = k_waitid(P_ALL, 0, NULL, 0, NULL);
    printf("waitid(P_ALL, 0, NULL, 0, NULL) = %s\n", sprintrc(rc));

    return exited_with_0();
}
