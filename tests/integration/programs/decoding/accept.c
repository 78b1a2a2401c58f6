/* accept(2): the peer's address and its length, as the kernel wrote them
 * back.  The length prints "[16]" where the caller's buffer size and the
 * address's length agree, "[128 => 16]" where they differ; an address longer
 * than the buffer prints as much of it as the buffer holds ({sa_family=...}
 * alone for 2 bytes); NULL and unmapped pointers print as such, the call
 * failing with EFAULT after it took the connection.  Each call takes a
 * connection made just before it, on loopback, so none blocks.
 */
#include "oracle.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stddef.h>
#include <sys/socket.h>

#include "loopback_peer.h"
#include <sys/un.h>

static long k_accept(int fd, void *addr, socklen_t *len)
{
    return syscall(SYS_accept, junk(fd), addr, len, BAD, BAD, BAD);
}

int main(void)
{
    const int lfd = listen_inet();
    struct sockaddr_storage *const peer = tail_alloc(sizeof(*peer));
    socklen_t *const len = tail_alloc(sizeof(*len));

    unsigned short port = connect_inet();
    *len = sizeof(*peer);
    long rc = k_accept(lfd, peer, len);
    printf("accept(%d, {sa_family=AF_INET, sin_port=htons(%u), sin_addr=inet_addr(\"127.0.0.1\")}, [%d => %u]) = %s\n",
           lfd, port, (int) sizeof(*peer), *len, sprintrc(rc));

    port = connect_inet();
    *len = sizeof(struct sockaddr_in);
    rc = k_accept(lfd, peer, len);
    printf("accept(%d, {sa_family=AF_INET, sin_port=htons(%u), sin_addr=inet_addr(\"127.0.0.1\")}, [%u]) = %s\n",
           lfd, port, *len, sprintrc(rc));

    /* A buffer too short for the address: only what it holds prints. */
    connect_inet();
    *len = sizeof(sa_family_t);
    rc = k_accept(lfd, peer, len);
    printf("accept(%d, {sa_family=AF_INET}, [%d => %u]) = %s\n", lfd, (int) sizeof(sa_family_t), *len,
           sprintrc(rc));

    /* A buffer of size 0 holds nothing of it: the address prints as a pointer. */
    connect_inet();
    *len = 0;
    rc = k_accept(lfd, peer, len);
    printf("accept(%d, %p, [0 => %u]) = %s\n", lfd, peer, *len, sprintrc(rc));

    connect_inet();
    rc = k_accept(lfd, NULL, NULL);
    printf("accept(%d, NULL, NULL) = %s\n", lfd, sprintrc(rc));

    /* A buffer without a size: the kernel faults on it, after it took the connection. */
    connect_inet();
    rc = k_accept(lfd, peer, NULL);
    printf("accept(%d, %p, NULL) = %s\n", lfd, peer, sprintrc(rc));

    connect_inet();
    void *const bad = unmapped();
    rc = k_accept(lfd, peer, bad);
    printf("accept(%d, %p, %p) = %s\n", lfd, peer, bad, sprintrc(rc));

    /* The address cannot be written: the size prints as the caller gave it. */
    connect_inet();
    *len = sizeof(struct sockaddr_in);
    rc = k_accept(lfd, bad, len);
    printf("accept(%d, %p, [%u]) = %s\n", lfd, bad, *len, sprintrc(rc));

    rc = k_accept(-1, NULL, NULL);
    printf("accept(-1, NULL, NULL) = %s\n", sprintrc(rc));

    const int file = open("/dev/null", O_RDONLY);
    rc = k_accept(file, NULL, NULL);
    printf("accept(%d, NULL, NULL) = %s\n", file, sprintrc(rc));

    /* A socket that does not listen. */
    const int unbound = socket(AF_INET, SOCK_STREAM, 0);
    rc = k_accept(unbound, NULL, NULL);
    printf("accept(%d, NULL, NULL) = %s\n", unbound, sprintrc(rc));

    /* A unix-domain peer: unnamed (the family alone), then with an abstract
       name (a NUL, then the name, which the pid keeps this run's own). */
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    const int name_len = snprintf(un.sun_path + 1, sizeof(un.sun_path) - 1, "harness-accept-%d", (int) getpid());
    const socklen_t un_len = offsetof(struct sockaddr_un, sun_path) + 1 + name_len;
    const int ufd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (ufd < 0 || bind(ufd, (void *) &un, un_len) || listen(ufd, 4))
        fail("listen unix");
    int client = socket(AF_UNIX, SOCK_STREAM, 0);
    if (client < 0 || connect(client, (void *) &un, un_len))
        fail("connect unix");
    *len = sizeof(struct sockaddr_un);
    rc = k_accept(ufd, peer, len);
    printf("accept(%d, {sa_family=AF_UNIX}, [%d => %u]) = %s\n", ufd, (int) sizeof(struct sockaddr_un), *len,
           sprintrc(rc));

    struct sockaddr_un named = {.sun_family = AF_UNIX};
    const int client_len =
        snprintf(named.sun_path + 1, sizeof(named.sun_path) - 1, "harness-client-%d", (int) getpid());
    client = socket(AF_UNIX, SOCK_STREAM, 0);
    if (client < 0 || bind(client, (void *) &named, offsetof(struct sockaddr_un, sun_path) + 1 + client_len) ||
        connect(client, (void *) &un, un_len))
        fail("connect unix");
    *len = sizeof(struct sockaddr_un);
    rc = k_accept(ufd, peer, len);
    printf("accept(%d, {sa_family=AF_UNIX, sun_path=@\"%s\"}, [%d => %u]) = %s\n", ufd, named.sun_path + 1,
           (int) sizeof(struct sockaddr_un), *len, sprintrc(rc));

    return exited_with_0();
}
