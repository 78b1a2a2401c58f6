/* epoll_wait(2): the events the kernel wrote print after the call
 * ("[{events=EPOLLIN, data={u32=..., u64=...}}]", data as both of its union's
 * views), the array as its address where the call failed; maxevents and the
 * timeout are ints read from the low half of their registers.  Every
 * descriptor here is ready or never will be, and the timeouts are 0.
 */
#include "oracle.h"

#include <sys/epoll.h>

/* What the data of a descriptor's registration holds: junk above its fd. */
#define DATA(fd) (0xdeadbeef00000000ULL | (unsigned) (fd))

static long k_epoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout)
{
    return syscall(SYS_epoll_wait, junk(epfd), events, junk(maxevents), junk(timeout), BAD, BAD);
}

static void watch(int epfd, int fd, unsigned int events)
{
    struct epoll_event ev = {.events = events, .data.u64 = DATA(fd)};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev))
        fail("epoll_ctl");
}

/* The events the kernel returned, as strace prints them. */
static const char *events_text(const struct epoll_event *events, long count)
{
    static char text[512];
    size_t len = snprintf(text, sizeof(text), "[");
    for (long i = 0; i < count; ++i) {
        const unsigned int flags = events[i].events;
        const char *name = flags == EPOLLIN ? "EPOLLIN" : flags == EPOLLOUT ? "EPOLLOUT" : NULL;
        if (name == NULL)
            fail("an event other than EPOLLIN or EPOLLOUT alone");
        len += snprintf(text + len, sizeof(text) - len, "%s{events=%s, data={u32=%u, u64=%llu}}", i ? ", " : "",
                        name, (unsigned) events[i].data.u32, (unsigned long long) events[i].data.u64);
    }
    snprintf(text + len, sizeof(text) - len, "]");
    return text;
}

int main(void)
{
    int ready[2], idle[2];
    if (pipe(ready) || pipe(idle) || write(ready[1], "x", 1) != 1)
        fail("pipe");
    const int epfd = epoll_create1(0);
    if (epfd < 0)
        fail("epoll_create1");
    watch(epfd, ready[0], EPOLLIN);
    watch(epfd, ready[1], EPOLLOUT);
    const int quiet = epoll_create1(0);
    if (quiet < 0)
        fail("epoll_create1");
    watch(quiet, idle[0], EPOLLIN);
    struct epoll_event *const events = tail_alloc(2 * sizeof(*events));

    long rc = k_epoll_wait(epfd, events, 2, 0);
    printf("epoll_wait(%d, %s, 2, 0) = %s\n", epfd, events_text(events, rc), sprintrc(rc));

    /* Room for one event: one is returned. */
    rc = k_epoll_wait(epfd, events + 1, 1, 0);
    printf("epoll_wait(%d, %s, 1, 0) = %s\n", epfd, events_text(events + 1, rc), sprintrc(rc));

    rc = k_epoll_wait(quiet, events, 2, 0);
    printf("epoll_wait(%d, [], 2, 0) = %s\n", quiet, sprintrc(rc));

    void *const bad = unmapped();
    rc = k_epoll_wait(epfd, bad, 2, 0);
    printf("epoll_wait(%d, %p, 2, 0) = %s\n", epfd, bad, sprintrc(rc));

    rc = k_epoll_wait(epfd, events, 0, 0);
    printf("epoll_wait(%d, %p, 0, 0) = %s\n", epfd, events, sprintrc(rc));

    rc = k_epoll_wait(-1, events, 1, -2);
    printf("epoll_wait(-1, %p, 1, -2) = %s\n", events, sprintrc(rc));

    /* A descriptor that is no epoll instance. */
    rc = k_epoll_wait(ready[0], events, 1, 0);
    printf("epoll_wait(%d, %p, 1, 0) = %s\n", ready[0], events, sprintrc(rc));

    return exited_with_0();
}
