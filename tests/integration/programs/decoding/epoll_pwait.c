/* epoll_pwait(2): epoll_wait's events, maxevents and timeout (see
 * epoll_wait.c), then a signal mask and its size: the mask prints as its
 * signals ("~[...]" with those it lacks where it holds two thirds of the 64
 * or more), NULL as such, and as its address where its size is not the
 * kernel's.  strace reads the mask at the call's exit, as it reads the
 * events, so a failed call prints it as its address too (as it does a call
 * that its mask lets a pending signal interrupt at once: EINTR).  Every
 * descriptor here is ready or never will be.
 */
#include "oracle.h"

#include <signal.h>
#include <sys/epoll.h>

static long k_epoll_pwait(int epfd, struct epoll_event *events, int maxevents, int timeout, void *mask,
                          unsigned long size)
{
    return syscall(SYS_epoll_pwait, junk(epfd), events, junk(maxevents), junk(timeout), mask, size);
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
    const int epfd = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 0xdeadbeef00000000ULL | (unsigned) ready[0]};
    if (epfd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, ready[0], &ev))
        fail("epoll");
    const int quiet = epoll_create1(0);
    ev.data.u64 = idle[0];
    if (quiet < 0 || epoll_ctl(quiet, EPOLL_CTL_ADD, idle[0], &ev))
        fail("epoll");
    struct epoll_event *const events = tail_alloc(2 * sizeof(*events));
    unsigned long *const mask = tail_alloc(sizeof(*mask));

    *mask = SIGBIT(SIGUSR2);
    long rc = k_epoll_pwait(epfd, events, 2, 0, mask, 8);
    printf("epoll_pwait(%d, [{events=EPOLLIN, data={u32=%u, u64=%llu}}], 2, 0, [USR2], 8) = %s\n", epfd,
           (unsigned) events[0].data.u32, (unsigned long long) events[0].data.u64, sprintrc(rc));

    rc = k_epoll_pwait(quiet, events, 2, 0, NULL, 8);
    printf("epoll_pwait(%d, [], 2, 0, NULL, 8) = %s\n", quiet, sprintrc(rc));

    *mask = ~(SIGBIT(SIGHUP) | SIGBIT(SIGKILL) | SIGBIT(SIGSTOP));
    rc = k_epoll_pwait(quiet, events, 2, 0, mask, 8);
    printf("epoll_pwait(%d, [], 2, 0, ~[HUP KILL STOP], 8) = %s\n", quiet, sprintrc(rc));

    rc = k_epoll_pwait(quiet, events, 2, 0, mask, 256);
    printf("epoll_pwait(%d, %p, 2, 0, %p, 256) = %s\n", quiet, events, mask, sprintrc(rc));

    void *const bad = unmapped();
    rc = k_epoll_pwait(epfd, events, 2, 0, bad, 8);
    printf("epoll_pwait(%d, %p, 2, 0, %p, 8) = %s\n", epfd, events, bad, sprintrc(rc));

    rc = k_epoll_pwait(-1, events, 1, -2, NULL, 8);
    printf("epoll_pwait(-1, %p, 1, -2, NULL, 8) = %s\n", events, sprintrc(rc));

    /* SIGUSR1 pending while blocked; the call's mask lets it in. */
    const struct sigaction act = {.sa_handler = handler};
    unsigned long blocked = SIGBIT(SIGUSR1);
    if (sigaction(SIGUSR1, &act, NULL) || syscall(SYS_rt_sigprocmask, SIG_SETMASK, &blocked, NULL, 8) ||
        raise(SIGUSR1))
        fail("SIGUSR1");
    *mask = 0;
    rc = k_epoll_pwait(quiet, events, 2, -1, mask, 8);
    printf("epoll_pwait(%d, %p, 2, -1, %p, 8) = %s\n", quiet, events, mask, sprintrc(rc));

    return exited_with_0();
}
