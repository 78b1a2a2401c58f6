/* A listener on loopback and connections waiting in its queue, so that no accept blocks: shared by
 * accept.c and accept4.c. */
#ifndef LOOPBACK_PEER_H
#define LOOPBACK_PEER_H

#include "oracle.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

static struct sockaddr_in listen_addr;

static int listen_inet(void)
{
    socklen_t len = sizeof(listen_addr);
    listen_addr.sin_family = AF_INET;
    listen_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || bind(fd, (void *) &listen_addr, sizeof(listen_addr)) || listen(fd, 16) ||
        getsockname(fd, (void *) &listen_addr, &len))
        fail("listen");
    return fd;
}

/* A connection waiting in the listener's queue; returns the client's port. */
static unsigned short connect_inet(void)
{
    struct sockaddr_in me;
    socklen_t len = sizeof(me);
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (void *) &listen_addr, sizeof(listen_addr)) || getsockname(fd, (void *) &me, &len))
        fail("connect");
    return ntohs(me.sin_port);
}

#endif
