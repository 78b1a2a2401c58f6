/* pipe2(2): the descriptors the kernel wrote print as "[3, 4]", the array as
 * its address where the call failed; the flags are an int read from the low
 * half of its register, printed as O_ flags ("0" for none).
 */
#include "oracle.h"

#include <fcntl.h>

static long k_pipe2(int *fds, int flags)
{
    return syscall(SYS_pipe2, fds, junk(flags), BAD, BAD, BAD, BAD);
}

int main(void)
{
    int *const fds = tail_alloc(2 * sizeof(int));

    long rc = k_pipe2(fds, 0);
    printf("pipe2([%d, %d], 0) = %s\n", fds[0], fds[1], sprintrc(rc));

    rc = k_pipe2(fds, O_NONBLOCK);
    printf("pipe2([%d, %d], O_NONBLOCK) = %s\n", fds[0], fds[1], sprintrc(rc));

    rc = k_pipe2(fds, O_CLOEXEC | O_DIRECT | O_NONBLOCK);
    printf("pipe2([%d, %d], O_NONBLOCK|O_DIRECT|O_CLOEXEC) = %s\n", fds[0], fds[1], sprintrc(rc));

    /* Room for one descriptor only. */
    int *const short_fds = fds + 1;
    rc = k_pipe2(short_fds, O_CLOEXEC);
    printf("pipe2(%p, O_CLOEXEC) = %s\n", short_fds, sprintrc(rc));

    rc = k_pipe2(NULL, 0);
    printf("pipe2(NULL, 0) = %s\n", sprintrc(rc));

    rc = k_pipe2(fds, O_TRUNC);
    printf("pipe2(%p, O_TRUNC) = %s\n", fds, sprintrc(rc));

    return exited_with_0();
}
