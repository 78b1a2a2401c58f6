/* close_range(2): first and last descriptors are unsigned ints, printed as
 * such (4294967295, not -1), and flags, each read from the low half of its
 * register; an unknown flag bit prints in hex, alone with a "CLOSE_RANGE_???"
 * comment, or after the known names.
 */
#include "oracle.h"

#include <fcntl.h>
#include <linux/close_range.h>

static long k_close_range(unsigned int first, unsigned int last, unsigned int flags)
{
    return syscall(SYS_close_range, junk(first), junk(last), junk(flags), BAD, BAD, BAD);
}

int main(void)
{
    const int fd = open("/dev/null", O_RDONLY);
    if (fd < 0 || dup2(fd, fd + 1) != fd + 1)
        fail("open");
    /* Far above every descriptor the program has. */
    const unsigned int high = 1000;

    long rc = k_close_range(fd, fd + 1, CLOSE_RANGE_CLOEXEC);
    printf("close_range(%d, %d, CLOSE_RANGE_CLOEXEC) = %s\n", fd, fd + 1, sprintrc(rc));

    rc = k_close_range(fd, fd + 1, 0);
    printf("close_range(%d, %d, 0) = %s\n", fd, fd + 1, sprintrc(rc));

    rc = k_close_range(high, -1U, 0);
    printf("close_range(%u, %u, 0) = %s\n", high, -1U, sprintrc(rc));

    rc = k_close_range(high, -1U, CLOSE_RANGE_UNSHARE);
    printf("close_range(%u, %u, CLOSE_RANGE_UNSHARE) = %s\n", high, -1U, sprintrc(rc));

    rc = k_close_range(-1U, -2U, CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC);
    printf("close_range(%u, %u, CLOSE_RANGE_UNSHARE|CLOSE_RANGE_CLOEXEC) = %s\n", -1U, -2U, sprintrc(rc));

    rc = k_close_range(high, high, 1);
    printf("close_range(%u, %u, 0x1 /* CLOSE_RANGE_??? */) = %s\n", high, high, sprintrc(rc));

    rc = k_close_range(high, high, -1U);
    printf("close_range(%u, %u, CLOSE_RANGE_UNSHARE|CLOSE_RANGE_CLOEXEC|%#x) = %s\n", high, high,
           -1U & ~(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC), sprintrc(rc));

    rc = k_close_range(7, 0, 0);
    printf("close_range(7, 0, 0) = %s\n", sprintrc(rc));

    return exited_with_0();
}
