/* futex(2): the word's address, the operation by name (FUTEX_PRIVATE_FLAG
 * as a _PRIVATE suffix, FUTEX_CLOCK_REALTIME or'ed on), then the arguments
 * the operation takes: FUTEX_WAKE a count, FUTEX_WAIT a value and a timeout,
 * the _BITSET ones a bitset as well (FUTEX_BITSET_MATCH_ANY by name).  The
 * operation is an int read from the low half of its register; an unknown
 * one prints in hex with every argument.  No call here waits: each wait's
 * value differs from the word's (EAGAIN), or its timeout is 0.
 */
#include "oracle.h"

#include <linux/futex.h>
#include <time.h>

static long k_futex(void *uaddr, int op, unsigned int val, void *timeout, void *uaddr2, unsigned int val3)
{
    return syscall(SYS_futex, uaddr, junk(op), junk(val), timeout, uaddr2, junk(val3));
}

int main(void)
{
    int *const word = tail_alloc(sizeof(*word));
    struct timespec *const ts = tail_alloc(sizeof(*ts));
    *word = 1;

    long rc = k_futex(word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    printf("futex(%p, FUTEX_WAKE_PRIVATE, 1) = %s\n", word, sprintrc(rc));

    rc = k_futex(word, FUTEX_WAKE, INT32_MAX, NULL, NULL, 0);
    printf("futex(%p, FUTEX_WAKE, %d) = %s\n", word, INT32_MAX, sprintrc(rc));

    rc = k_futex(word, FUTEX_WAIT_PRIVATE, 2, NULL, NULL, 0);
    printf("futex(%p, FUTEX_WAIT_PRIVATE, 2, NULL) = %s\n", word, sprintrc(rc));

    *ts = (struct timespec){1, 2};
    rc = k_futex(word, FUTEX_WAIT, 2, ts, NULL, 0);
    printf("futex(%p, FUTEX_WAIT, 2, {tv_sec=1, tv_nsec=2}) = %s\n", word, sprintrc(rc));

    /* The word's own value and no time to wait. */
    *ts = (struct timespec){0, 0};
    rc = k_futex(word, FUTEX_WAIT_PRIVATE, 1, ts, NULL, 0);
    printf("futex(%p, FUTEX_WAIT_PRIVATE, 1, {tv_sec=0, tv_nsec=0}) = %s\n", word, sprintrc(rc));

    rc = k_futex(word, FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME, 2, NULL, NULL, FUTEX_BITSET_MATCH_ANY);
    printf("futex(%p, FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME, 2, NULL, FUTEX_BITSET_MATCH_ANY) = %s\n", word,
           sprintrc(rc));

    rc = k_futex(word, FUTEX_WAKE_BITSET_PRIVATE, 1, NULL, NULL, 0xff);
    printf("futex(%p, FUTEX_WAKE_BITSET_PRIVATE, 1, 0xff) = %s\n", word, sprintrc(rc));

    void *const bad = unmapped();
    rc = k_futex(bad, FUTEX_WAIT_PRIVATE, 1, NULL, NULL, 0);
    printf("futex(%p, FUTEX_WAIT_PRIVATE, 1, NULL) = %s\n", bad, sprintrc(rc));

    rc = k_futex(word, FUTEX_WAIT_PRIVATE, 1, bad, NULL, 0);
    printf("futex(%p, FUTEX_WAIT_PRIVATE, 1, %p) = %s\n", word, bad, sprintrc(rc));

    *ts = (struct timespec){0, 1000000000};
    rc = k_futex(word, FUTEX_WAIT, 1, ts, NULL, 0);
    printf("futex(%p, FUTEX_WAIT, 1, {tv_sec=0, tv_nsec=1000000000}) = %s\n", word, sprintrc(rc));

    /* An operation no kernel knows (14), with all the arguments. */
    rc = k_futex(word, 14, 1, ts, word, 0xbad);
    printf("futex(%p, 0xe /* FUTEX_??? */, 1, %p, %p, 0xbad) = %s\n", word, ts, word, sprintrc(rc));

    return exited_with_0();
}
