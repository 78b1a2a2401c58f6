/* dup2(2): two descriptors, unsigned ints read from the low half of their
 * registers, printed as ints; dup2 of a descriptor onto itself checks it only.
 */
#include "oracle.h"

#include <fcntl.h>

static long k_dup2(int oldfd, int newfd)
{
    return syscall(SYS_dup2, junk(oldfd), junk(newfd), BAD, BAD, BAD, BAD);
}

int main(void)
{
    const int fd = open("/dev/null", O_RDONLY);
    const int other = open("/dev/null", O_RDONLY);
    const int closed = open("/dev/null", O_RDONLY);
    if (fd < 0 || other < 0 || closed < 0 || close(closed))
        fail("open");

    long rc = k_dup2(fd, fd);
    printf("dup2(%d, %d) = %s\n", fd, fd, sprintrc(rc));

    rc = k_dup2(fd, other);
    printf("dup2(%d, %d) = %s\n", fd, other, sprintrc(rc));

    rc = k_dup2(closed, closed);
    printf("dup2(%d, %d) = %s\n", closed, closed, sprintrc(rc));

    rc = k_dup2(closed, fd);
    printf("dup2(%d, %d) = %s\n", closed, fd, sprintrc(rc));

    rc = k_dup2(-1, -2);
    printf("dup2(-1, -2) = %s\n", sprintrc(rc));

    rc = k_dup2(fd, -4);
    printf("dup2(%d, -4) = %s\n", fd, sprintrc(rc));

    rc = k_dup2(fd, closed);
    printf("dup2(%d, %d) = %s\n", fd, closed, sprintrc(rc));

    return exited_with_0();
}
