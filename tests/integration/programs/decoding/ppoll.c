/* ppoll(2): poll's array (see poll.c), nfds an unsigned int read from the
 * low half of its register, a timespec timeout, a signal mask and its size.
 * After the result, with the entries that have revents, the time left as the
 * kernel wrote it back ("left {tv_sec=41, tv_nsec=...}"), read here after the
 * call as strace reads it at the call's exit; "(Timeout)" for 0.  A mask
 * prints as its signals, or as "~[...]" with those it lacks where it holds
 * two thirds of the 64 or more; of another size than the kernel's, as its
 * address.  Every descriptor here is ready or never will be.  A call that
 * its mask lets a pending signal interrupt at once ends "= ? ERESTARTNOHAND
 * (To be restarted if no handler)": the kernel's own restart code, which the
 * program sees as EINTR once its handler ran.
 */
#include "oracle.h"

#include <poll.h>
#include <signal.h>
#include <time.h>

static void handler(int sig)
{
    (void) sig;
}

static long k_ppoll(void *fds, unsigned long nfds, void *timeout, void *mask, unsigned long size)
{
    return syscall(SYS_ppoll, fds, nfds, timeout, mask, size, BAD);
}

int main(void)
{
    int ready[2], idle[2];
    if (pipe(ready) || pipe(idle) || write(ready[1], "x", 1) != 1)
        fail("pipe");
    struct timespec *const ts = tail_alloc(sizeof(*ts));
    unsigned long *const mask = tail_alloc(sizeof(*mask));
    void *const bad = unmapped();

    long rc = k_ppoll(NULL, 0xdeadbeeffacefeedUL, NULL, NULL, 0xdeadbeefbadc0dedUL);
    printf("ppoll(NULL, %u, NULL, NULL, %lu) = %s\n", 0xfacefeedU, 0xdeadbeefbadc0dedUL, sprintrc(rc));

    rc = k_ppoll(bad, 42, (char *) bad + 8, (char *) bad + 16, 8);
    printf("ppoll(%p, 42, %p, %p, 8) = %s\n", bad, (char *) bad + 8, (char *) bad + 16, sprintrc(rc));

    *ts = (struct timespec){(time_t) 0xcafef00ddeadbeefLL, (long) 0xbadc0dedfacefeedLL};
    rc = k_ppoll(NULL, 0, ts, NULL, 8);
    printf("ppoll(NULL, 0, {tv_sec=%lld, tv_nsec=%llu}, NULL, 8) = %s\n", (long long) ts->tv_sec,
           (unsigned long long) ts->tv_nsec, sprintrc(rc));

    struct pollfd *const fds = tail_alloc(2 * sizeof(*fds));
    fds[0] = (struct pollfd){.fd = ready[0], .events = POLLIN};
    fds[1] = (struct pollfd){.fd = ready[1], .events = POLLOUT};
    *ts = (struct timespec){42, 999999999};
    *mask = SIGBIT(SIGUSR2) | SIGBIT(SIGCHLD);
    rc = k_ppoll(fds, JUNK | 2, ts, mask, 8);
    printf("ppoll([{fd=%d, events=POLLIN}, {fd=%d, events=POLLOUT}], 2, {tv_sec=42, tv_nsec=999999999}, [USR2 CHLD], "
           "8) = %s ([{fd=%d, revents=POLLIN}, {fd=%d, revents=POLLOUT}], left {tv_sec=%lld, tv_nsec=%llu})\n",
           ready[0], ready[1], sprintrc(rc), ready[0], ready[1], (long long) ts->tv_sec,
           (unsigned long long) ts->tv_nsec);

    rc = k_ppoll(fds, 1, NULL, NULL, 8);
    printf("ppoll([{fd=%d, events=POLLIN}], 1, NULL, NULL, 8) = %s ([{fd=%d, revents=POLLIN}])\n", ready[0],
           sprintrc(rc), ready[0]);

    fds[0].fd = idle[0];
    *ts = (struct timespec){0, 0};
    *mask = ~0UL;
    rc = k_ppoll(fds, 1, ts, mask, 8);
    printf("ppoll([{fd=%d, events=POLLIN}], 1, {tv_sec=0, tv_nsec=0}, ~[], 8) = %s (Timeout)\n", idle[0],
           sprintrc(rc));

    *mask = ~(SIGBIT(SIGHUP) | SIGBIT(SIGKILL) | SIGBIT(SIGSTOP));
    rc = k_ppoll(fds, 1, ts, mask, 8);
    printf("ppoll([{fd=%d, events=POLLIN}], 1, {tv_sec=0, tv_nsec=0}, ~[HUP KILL STOP], 8) = %s (Timeout)\n",
           idle[0], sprintrc(rc));

    *mask = 0;
    rc = k_ppoll(fds, 1, ts, mask, 8);
    printf("ppoll([{fd=%d, events=POLLIN}], 1, {tv_sec=0, tv_nsec=0}, [], 8) = %s (Timeout)\n", idle[0],
           sprintrc(rc));

    rc = k_ppoll(fds, 1, ts, mask, 4);
    printf("ppoll([{fd=%d, events=POLLIN}], 1, {tv_sec=0, tv_nsec=0}, %p, 4) = %s\n", idle[0], mask, sprintrc(rc));

    /* SIGUSR1 pending while blocked; the call's mask lets it in. */
    const struct sigaction act = {.sa_handler = handler};
    unsigned long blocked = SIGBIT(SIGUSR1);
    if (sigaction(SIGUSR1, &act, NULL) || syscall(SYS_rt_sigprocmask, SIG_SETMASK, &blocked, NULL, 8) ||
        raise(SIGUSR1))
        fail("SIGUSR1");
    *mask = 0;
    rc = k_ppoll(fds, 1, NULL, mask, 8);
    if (rc != -1 || errno != EINTR)
        fail("ppoll was not interrupted");
    printf("ppoll([{fd=%d, events=POLLIN}], 1, NULL, [], 8) = ? ERESTARTNOHAND (To be restarted if no handler)\n",
           idle[0]);

    return exited_with_0();
}
