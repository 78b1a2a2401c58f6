/* dup3(2): two descriptors and O_ flags, each read from the low half of its
 * register; the only flag is O_CLOEXEC, any other bit prints in hex with an
 * "O_???" comment, and fails, as does a descriptor onto itself.
 */
#include "oracle.h"

#include <fcntl.h>

static long k_dup3(int oldfd, int newfd, unsigned int flags)
{
    return syscall(SYS_dup3, junk(oldfd), junk(newfd), junk(flags), BAD, BAD, BAD);
}

int main(void)
{
    const int fd = open("/dev/null", O_RDONLY);
    const int other = open("/dev/null", O_RDONLY);
    const int closed = open("/dev/null", O_RDONLY);
    if (fd < 0 || other < 0 || closed < 0 || close(closed))
        fail("open");

    long rc = k_dup3(fd, other, O_CLOEXEC);
    printf("dup3(%d, %d, O_CLOEXEC) = %s\n", fd, other, sprintrc(rc));

    rc = k_dup3(fd, other, 0);
    printf("dup3(%d, %d, 0) = %s\n", fd, other, sprintrc(rc));

    rc = k_dup3(fd, fd, O_CLOEXEC);
    printf("dup3(%d, %d, O_CLOEXEC) = %s\n", fd, fd, sprintrc(rc));

    rc = k_dup3(fd, closed, 0);
    printf("dup3(%d, %d, 0) = %s\n", fd, closed, sprintrc(rc));

    rc = k_dup3(-1, -2, O_CLOEXEC);
    printf("dup3(-1, -2, O_CLOEXEC) = %s\n", sprintrc(rc));

    rc = k_dup3(fd, other, O_TRUNC | O_CLOEXEC);
    printf("dup3(%d, %d, O_TRUNC|O_CLOEXEC) = %s\n", fd, other, sprintrc(rc));

    rc = k_dup3(fd, other, O_WRONLY);
    printf("dup3(%d, %d, 0x1 /* O_??? */) = %s\n", fd, other, sprintrc(rc));

    rc = k_dup3(fd, other, 7);
    printf("dup3(%d, %d, 0x7 /* O_??? */) = %s\n", fd, other, sprintrc(rc));

    return exited_with_0();
}
