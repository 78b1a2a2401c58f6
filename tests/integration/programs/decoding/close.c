/* close(2): the descriptor is an unsigned int read from the low half of its
 * register, printed as an int; closing it twice is EBADF.
 */
#include "oracle.h"

#include <fcntl.h>
#include <limits.h>

int main(void)
{
    const int fd = open("/dev/null", O_RDONLY);
    if (fd < 0)
        fail("open");

    long rc = syscall(SYS_close, junk(fd), BAD, BAD, BAD, BAD, BAD);
    printf("close(%d) = %s\n", fd, sprintrc(rc));

    rc = syscall(SYS_close, junk(fd), BAD, BAD, BAD, BAD, BAD);
    printf("close(%d) = %s\n", fd, sprintrc(rc));

    rc = syscall(SYS_close, junk(-1), BAD, BAD, BAD, BAD, BAD);
    printf("close(-1) = %s\n", sprintrc(rc));

    rc = syscall(SYS_close, junk(INT_MAX), BAD, BAD, BAD, BAD, BAD);
    printf("close(%d) = %s\n", INT_MAX, sprintrc(rc));

    return exited_with_0();
}
