/* listen(2): the descriptor and the backlog are ints, read from the low half
 * of their registers; a negative backlog is allowed (the kernel caps it).
 */
#include "oracle.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>

static long k_listen(int fd, int backlog)
{
    return syscall(SYS_listen, junk(fd), junk(backlog), BAD, BAD, BAD, BAD);
}

int main(void)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || bind(fd, (void *) &addr, sizeof(addr)))
        fail("socket");

    long rc = k_listen(fd, 16);
    printf("listen(%d, 16) = %s\n", fd, sprintrc(rc));

    rc = k_listen(fd, -1);
    printf("listen(%d, -1) = %s\n", fd, sprintrc(rc));

    rc = k_listen(fd, 0);
    printf("listen(%d, 0) = %s\n", fd, sprintrc(rc));

    rc = k_listen(-1, 1);
    printf("listen(-1, 1) = %s\n", sprintrc(rc));

    const int file = open("/dev/null", O_RDONLY);
    rc = k_listen(file, 1);
    printf("listen(%d, 1) = %s\n", file, sprintrc(rc));

    /* A datagram socket cannot listen. */
    const int udp = socket(AF_INET, SOCK_DGRAM, 0);
    rc = k_listen(udp, 1);
    printf("listen(%d, 1) = %s\n", udp, sprintrc(rc));

    return exited_with_0();
}
