/* pselect6(2): select's fd sets (see select.c), a timespec timeout, and a
 * pointer to a signal mask and its size, printed as "{sigmask=[USR2 CHLD],
 * sigsetsize=8}" ("~[...]" with the signals it lacks where it holds two
 * thirds of the 64 or more).  After the result, the time left as the kernel
 * wrote it back, read here after the call as strace reads it at the call's
 * exit.  A call that the mask lets a pending signal interrupt at once ends
 * "= ? ERESTARTNOHAND (To be restarted if no handler)": the kernel's own
 * restart code, which the program sees as EINTR once its handler ran.
 */
#include "oracle.h"

#include <signal.h>
#include <sys/select.h>
#include <time.h>

struct mask_arg {
    const unsigned long *mask;
    unsigned long size;
};

static long k_pselect6(int nfds, void *in, void *out, void *ex, void *timeout, void *sigmask)
{
    return syscall(SYS_pselect6, junk(nfds), in, out, ex, timeout, sigmask);
}

static void handler(int sig)
{
    (void) sig;
}

int main(void)
{
    int ready[2], idle[2];
    if (pipe(ready) || pipe(idle) || write(ready[1], "x", 1) != 1)
        fail("pipe");
    const int nfds = idle[1] + 1;
    fd_set *const in = tail_alloc(sizeof(*in));
    fd_set *const out = tail_alloc(sizeof(*out));
    struct timespec *const ts = tail_alloc(sizeof(*ts));
    unsigned long *const mask = tail_alloc(sizeof(*mask));
    struct mask_arg *const arg = tail_alloc(sizeof(*arg));

    FD_ZERO(in);
    FD_SET(ready[0], in);
    FD_SET(idle[0], in);
    FD_ZERO(out);
    FD_SET(ready[1], out);
    *ts = (struct timespec){42, 999999999};
    *mask = SIGBIT(SIGUSR2) | SIGBIT(SIGCHLD);
    *arg = (struct mask_arg){mask, 8};
    long rc = k_pselect6(nfds, in, out, NULL, ts, arg);
    printf("pselect6(%d, [%d %d], [%d], NULL, {tv_sec=42, tv_nsec=999999999}, {sigmask=[USR2 CHLD], sigsetsize=8}) = "
           "%s (in [%d], out [%d], left {tv_sec=%lld, tv_nsec=%llu})\n",
           nfds, ready[0], idle[0], ready[1], sprintrc(rc), ready[0], ready[1], (long long) ts->tv_sec,
           (unsigned long long) ts->tv_nsec);

    FD_ZERO(in);
    FD_SET(ready[0], in);
    rc = k_pselect6(nfds, in, NULL, NULL, NULL, NULL);
    printf("pselect6(%d, [%d], NULL, NULL, NULL, NULL) = %s (in [%d])\n", nfds, ready[0], sprintrc(rc), ready[0]);

    FD_ZERO(in);
    FD_SET(idle[0], in);
    *ts = (struct timespec){0, 0};
    *arg = (struct mask_arg){NULL, 8};
    rc = k_pselect6(nfds, in, NULL, NULL, ts, arg);
    printf("pselect6(%d, [%d], NULL, NULL, {tv_sec=0, tv_nsec=0}, {sigmask=NULL, sigsetsize=8}) = %s (Timeout)\n",
           nfds, idle[0], sprintrc(rc));

    *mask = ~(SIGBIT(SIGHUP) | SIGBIT(SIGKILL) | SIGBIT(SIGSTOP));
    *arg = (struct mask_arg){mask, 8};
    rc = k_pselect6(0, NULL, NULL, NULL, ts, arg);
    printf("pselect6(0, NULL, NULL, NULL, {tv_sec=0, tv_nsec=0}, {sigmask=~[HUP KILL STOP], sigsetsize=8}) = %s "
           "(Timeout)\n",
           sprintrc(rc));

    void *const bad = unmapped();
    rc = k_pselect6(0, NULL, NULL, NULL, ts, bad);
    printf("pselect6(0, NULL, NULL, NULL, {tv_sec=0, tv_nsec=0}, %p) = %s\n", bad, sprintrc(rc));

    *ts = (struct timespec){0, 1000000000};
    rc = k_pselect6(0, NULL, NULL, NULL, ts, NULL);
    printf("pselect6(0, NULL, NULL, NULL, {tv_sec=0, tv_nsec=1000000000}, NULL) = %s\n", sprintrc(rc));

    rc = k_pselect6(-1, NULL, NULL, NULL, NULL, NULL);
    printf("pselect6(-1, NULL, NULL, NULL, NULL, NULL) = %s\n", sprintrc(rc));

    /* SIGUSR1 pending while blocked; the call's mask lets it in. */
    const struct sigaction act = {.sa_handler = handler};
    unsigned long blocked = SIGBIT(SIGUSR1);
    if (sigaction(SIGUSR1, &act, NULL) || syscall(SYS_rt_sigprocmask, SIG_SETMASK, &blocked, NULL, 8) ||
        raise(SIGUSR1))
        fail("SIGUSR1");
    *mask = 0;
    *arg = (struct mask_arg){mask, 8};
    rc = k_pselect6(0, NULL, NULL, NULL, NULL, arg);
    if (rc != -1 || errno != EINTR)
        fail("pselect6 was not interrupted");
    printf("pselect6(0, NULL, NULL, NULL, NULL, {sigmask=[], sigsetsize=8}) = ? ERESTARTNOHAND (To be restarted if "
           "no handler)\n");

    return exited_with_0();
}
