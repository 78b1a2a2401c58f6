/* select(2): nfds is an int read from the low half of its register; the fd
 * sets print as the descriptors in them ("[3 4]", "[]" for an empty one)
 * up to nfds, NULL or unreadable as addresses, and again after the result,
 * as the kernel left them ("= 2 (in [3], out [4], left {...})"), with the
 * time left, read here after the call as strace reads it at the call's
 * exit; "(Timeout)" for 0.  Every descriptor here is ready or never will be.
 */
#include "oracle.h"

#include <sys/select.h>
#include <sys/time.h>

static long k_select(int nfds, void *in, void *out, void *ex, void *timeout)
{
    return syscall(SYS_select, junk(nfds), in, out, ex, timeout, BAD);
}

int main(void)
{
    int ready[2], idle[2];
    if (pipe(ready) || pipe(idle) || write(ready[1], "x", 1) != 1)
        fail("pipe");
    const int nfds = idle[1] + 1;
    const int closed = nfds;
    fd_set *const in = tail_alloc(sizeof(*in));
    fd_set *const out = tail_alloc(sizeof(*out));
    fd_set *const ex = tail_alloc(sizeof(*ex));
    struct timeval *const tv = tail_alloc(sizeof(*tv));

    *tv = (struct timeval){0, 0};
    long rc = k_select(0, NULL, NULL, NULL, tv);
    printf("select(0, NULL, NULL, NULL, {tv_sec=0, tv_usec=0}) = %s (Timeout)\n", sprintrc(rc));

    void *const half_tv = (char *) tv + 8;
    rc = k_select(0, NULL, NULL, NULL, half_tv);
    printf("select(0, NULL, NULL, NULL, %p) = %s\n", half_tv, sprintrc(rc));

    FD_ZERO(in);
    FD_SET(ready[0], in);
    FD_SET(idle[0], in);
    FD_ZERO(out);
    FD_SET(ready[1], out);
    FD_ZERO(ex);
    *tv = (struct timeval){42, 999999};
    rc = k_select(nfds, in, out, ex, tv);
    printf("select(%d, [%d %d], [%d], [], {tv_sec=42, tv_usec=999999}) = %s (in [%d], out [%d], left {tv_sec=%lld, "
           "tv_usec=%llu})\n",
           nfds, ready[0], idle[0], ready[1], sprintrc(rc), ready[0], ready[1], (long long) tv->tv_sec,
           (unsigned long long) tv->tv_usec);

    FD_ZERO(in);
    FD_SET(ready[0], in);
    rc = k_select(nfds, in, NULL, NULL, NULL);
    printf("select(%d, [%d], NULL, NULL, NULL) = %s (in [%d])\n", nfds, ready[0], sprintrc(rc), ready[0]);

    /* Only the descriptors below nfds count. */
    FD_ZERO(in);
    FD_SET(ready[0], in);
    FD_SET(idle[0], in);
    *tv = (struct timeval){0, 0};
    rc = k_select(idle[0], in, NULL, NULL, tv);
    printf("select(%d, [%d], NULL, NULL, {tv_sec=0, tv_usec=0}) = %s (in [%d], left {tv_sec=0, tv_usec=0})\n",
           idle[0], ready[0], sprintrc(rc), ready[0]);

    FD_ZERO(in);
    FD_SET(idle[0], in);
    rc = k_select(nfds, in, NULL, NULL, tv);
    printf("select(%d, [%d], NULL, NULL, {tv_sec=0, tv_usec=0}) = %s (Timeout)\n", nfds, idle[0], sprintrc(rc));

    FD_ZERO(in);
    FD_SET(closed, in);
    rc = k_select(closed + 1, in, NULL, NULL, tv);
    printf("select(%d, [%d], NULL, NULL, {tv_sec=0, tv_usec=0}) = %s\n", closed + 1, closed, sprintrc(rc));

    void *const bad = unmapped();
    rc = k_select(nfds, bad, NULL, NULL, tv);
    printf("select(%d, %p, NULL, NULL, {tv_sec=0, tv_usec=0}) = %s\n", nfds, bad, sprintrc(rc));

    rc = k_select(-1, NULL, NULL, NULL, NULL);
    printf("select(-1, NULL, NULL, NULL, NULL) = %s\n", sprintrc(rc));

    *tv = (struct timeval){-1, -1};
    rc = k_select(0, NULL, NULL, NULL, tv);
    printf("select(0, NULL, NULL, NULL, {tv_sec=-1, tv_usec=%llu}) = %s\n", (unsigned long long) tv->tv_usec,
           sprintrc(rc));

    return exited_with_0();
}
