/* dup(2): the descriptor is an unsigned int read from the low half of its
 * register, printed as an int (-1); the new descriptor is the result.
 */
#include "oracle.h"

#include <fcntl.h>
#include <limits.h>

int main(void)
{
    const int fd = open("/dev/null", O_RDONLY);
    if (fd < 0)
        fail("open");

    long rc = syscall(SYS_dup, junk(fd), BAD, BAD, BAD, BAD, BAD);
    printf("dup(%d) = %s\n", fd, sprintrc(rc));
    const int copy = (int) rc;

    rc = syscall(SYS_dup, junk(copy), BAD, BAD, BAD, BAD, BAD);
    printf("dup(%d) = %s\n", copy, sprintrc(rc));

    if (close((int) rc) || close(copy))
        fail("close");
    rc = syscall(SYS_dup, junk(copy), BAD, BAD, BAD, BAD, BAD);
    printf("dup(%d) = %s\n", copy, sprintrc(rc));

    rc = syscall(SYS_dup, junk(-1), BAD, BAD, BAD, BAD, BAD);
    printf("dup(-1) = %s\n", sprintrc(rc));

    rc = syscall(SYS_dup, junk(INT_MAX), BAD, BAD, BAD, BAD, BAD);
    printf("dup(%d) = %s\n", INT_MAX, sprintrc(rc));

    return exited_with_0();
}
