/* accept4(2): accept's address and length (see accept.c), then the flags, an
 * int read from the low half of its register: SOCK_NONBLOCK, SOCK_CLOEXEC,
 * 0, and bits that are no flag (in hex, failing with EINVAL).  Each call
 * takes a connection made just before it, on loopback, so none blocks.
 */
#include "oracle.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "loopback_peer.h"

static long k_accept4(int fd, void *addr, socklen_t *len, int flags)
{
    return syscall(SYS_accept4, junk(fd), addr, len, junk(flags), BAD, BAD);
}

int main(void)
{
    const int lfd = listen_inet();
    struct sockaddr_in *const peer = tail_alloc(sizeof(*peer));
    socklen_t *const len = tail_alloc(sizeof(*len));

    unsigned short port = connect_inet();
    *len = sizeof(*peer);
    long rc = k_accept4(lfd, peer, len, SOCK_CLOEXEC);
    printf("accept4(%d, {sa_family=AF_INET, sin_port=htons(%u), sin_addr=inet_addr(\"127.0.0.1\")}, [%u], "
           "SOCK_CLOEXEC) = %s\n",
           lfd, port, *len, sprintrc(rc));

    port = connect_inet();
    *len = sizeof(*peer) + 8;
    rc = k_accept4(lfd, (char *) peer - 8, len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    printf("accept4(%d, {sa_family=AF_INET, sin_port=htons(%u), sin_addr=inet_addr(\"127.0.0.1\")}, [%d => %u], "
           "SOCK_CLOEXEC|SOCK_NONBLOCK) = %s\n",
           lfd, port, (int) sizeof(*peer) + 8, *len, sprintrc(rc));

    connect_inet();
    rc = k_accept4(lfd, NULL, NULL, 0);
    printf("accept4(%d, NULL, NULL, 0) = %s\n", lfd, sprintrc(rc));

    connect_inet();
    rc = k_accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
    printf("accept4(%d, NULL, NULL, SOCK_NONBLOCK) = %s\n", lfd, sprintrc(rc));

    connect_inet();
    *len = sizeof(sa_family_t);
    rc = k_accept4(lfd, peer, len, SOCK_CLOEXEC);
    printf("accept4(%d, {sa_family=AF_INET}, [%d => %u], SOCK_CLOEXEC) = %s\n", lfd, (int) sizeof(sa_family_t), *len,
           sprintrc(rc));

    void *const bad = unmapped();
    connect_inet();
    rc = k_accept4(lfd, peer, bad, SOCK_CLOEXEC);
    printf("accept4(%d, %p, %p, SOCK_CLOEXEC) = %s\n", lfd, peer, bad, sprintrc(rc));

    /* Bits that are no flag: the kernel refuses them before it takes a connection. */
    rc = k_accept4(lfd, NULL, NULL, 1);
    printf("accept4(%d, NULL, NULL, 0x1 /* SOCK_??? */) = %s\n", lfd, sprintrc(rc));

    rc = k_accept4(lfd, NULL, NULL, SOCK_CLOEXEC | 1);
    printf("accept4(%d, NULL, NULL, SOCK_CLOEXEC|0x1) = %s\n", lfd, sprintrc(rc));

    rc = k_accept4(-1, NULL, NULL, SOCK_CLOEXEC);
    printf("accept4(-1, NULL, NULL, SOCK_CLOEXEC) = %s\n", sprintrc(rc));

    return exited_with_0();
}
