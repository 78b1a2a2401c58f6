/* poll(2): the array prints with each entry's events at entry (a negative
 * fd, which poll skips, without them), and the entries that have revents
 * after the result ("= 2 ([{fd=3, revents=POLLIN}])"); 0 is "(Timeout)".
 * An entry that cannot be read ends the array with its address; more than
 * 32 entries print 32, then "...".  The timeout is an int read from the low
 * half of its register.  Every descriptor here is ready or never will be,
 * and the timeouts are 0.
 */
#include "oracle.h"

#include <poll.h>

static long k_poll(struct pollfd *fds, unsigned int nfds, int timeout)
{
    return syscall(SYS_poll, fds, nfds, junk(timeout), BAD, BAD, BAD);
}

int main(void)
{
    int ready[2], idle[2];
    if (pipe(ready) || pipe(idle) || write(ready[1], "x", 1) != 1)
        fail("pipe");
    const int closed = idle[1] + 1;

    long rc = k_poll(NULL, 42, 0);
    printf("poll(NULL, 42, 0) = %s\n", sprintrc(rc));

    struct pollfd *const two = tail_alloc(2 * sizeof(*two));
    rc = k_poll(two, 0, 0);
    printf("poll([], 0, 0) = %s (Timeout)\n", sprintrc(rc));

    two[0] = (struct pollfd){.fd = ready[0], .events = POLLIN | POLLPRI};
    two[1] = (struct pollfd){.fd = ready[1], .events = POLLOUT | POLLWRNORM};
    rc = k_poll(two, 2, 0);
    printf("poll([{fd=%d, events=POLLIN|POLLPRI}, {fd=%d, events=POLLOUT|POLLWRNORM}], 2, 0) = %s "
           "([{fd=%d, revents=POLLIN}, {fd=%d, revents=POLLOUT|POLLWRNORM}])\n",
           ready[0], ready[1], sprintrc(rc), ready[0], ready[1]);

    /* A negative fd is skipped, no events is none, a closed fd is POLLNVAL. */
    struct pollfd *const four = tail_alloc(4 * sizeof(*four));
    four[0] = (struct pollfd){.fd = -1, .events = POLLIN};
    four[1] = (struct pollfd){.fd = idle[0], .events = 0};
    four[2] = (struct pollfd){.fd = closed, .events = POLLIN};
    four[3] = (struct pollfd){.fd = idle[0], .events = POLLIN | POLLRDNORM | POLLRDBAND};
    rc = k_poll(four, 4, 0);
    printf("poll([{fd=-1}, {fd=%d, events=0}, {fd=%d, events=POLLIN}, "
           "{fd=%d, events=POLLIN|POLLRDNORM|POLLRDBAND}], 4, 0) = %s ([{fd=%d, revents=POLLNVAL}])\n",
           idle[0], closed, idle[0], sprintrc(rc), closed);

    /* Nothing ready: the timeout. */
    rc = k_poll(four + 3, 1, 0);
    printf("poll([{fd=%d, events=POLLIN|POLLRDNORM|POLLRDBAND}], 1, 0) = %s (Timeout)\n", idle[0], sprintrc(rc));

    void *const bad = unmapped();
    rc = k_poll(bad, 1, 0);
    printf("poll(%p, 1, 0) = %s\n", bad, sprintrc(rc));

    /* One entry readable, the next not. */
    struct pollfd *const last = four + 3;
    rc = k_poll(last, 2, 0);
    printf("poll([{fd=%d, events=POLLIN|POLLRDNORM|POLLRDBAND}, ... /* %p */], 2, 0) = %s\n", idle[0], last + 1,
           sprintrc(rc));

    /* 33 entries (negative: skipped): 32 print. */
    enum { MANY = 33 };
    struct pollfd *const many = tail_alloc(MANY * sizeof(*many));
    for (int i = 0; i < MANY; ++i)
        many[i] = (struct pollfd){.fd = -1 - i, .events = POLLOUT};
    rc = k_poll(many, MANY, 0);
    printf("poll([");
    for (int i = 0; i < 32; ++i)
        printf("%s{fd=%d}", i ? ", " : "", -1 - i);
    printf(", ...], %d, 0) = %s (Timeout)\n", MANY, sprintrc(rc));

    return exited_with_0();
}
