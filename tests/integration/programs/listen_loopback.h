/* The listening socket of the test servers: 127.0.0.1:PORT, SO_REUSEADDR, a backlog of 16.
 *
 * `flags` go with SOCK_STREAM in socket(2) (SOCK_CLOEXEC, or 0).  Exits 1, saying why, when it cannot listen.
 */
#ifndef LISTEN_LOOPBACK_H
#define LISTEN_LOOPBACK_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

static int listen_loopback(const char *port, int flags)
{
    int listener = socket(AF_INET, SOCK_STREAM | flags, 0);
    int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(port))};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (listener < 0 || bind(listener, (struct sockaddr *)&address, sizeof address) != 0 || listen(listener, 16) != 0) {
        perror("listen");
        exit(1);
    }
    return listener;
}

#endif
