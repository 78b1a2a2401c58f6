/* ncat --exec's shape: each connection's child starts a helper that reads, until EOF, a pipe the child writes.
 *
 *   relay_to_helper PORT CONNECTIONS
 *
 * The connection's child echoes the connection, copying every byte to the
 * helper through a pipe, then exits without waiting for the helper (ncat's
 * child does the same): the helper's read ends only when that exit closes
 * the pipe's last write end.  A schedule that held the child's exit until
 * its helper was done would wait for ever.  The parent reaps with WNOHANG
 * before each accept, and waits for what is left before it exits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fork_per_connection.h"
#include "listen_loopback.h"

static void relay(int conn)
{
    int pipe_ends[2];
    if (pipe(pipe_ends) != 0)
        _exit(1);
    if (fork() == 0) { /* the helper: counts what it is given, until EOF */
        close(pipe_ends[1]);
        close(conn);
        char buffer[256];
        while (read(pipe_ends[0], buffer, sizeof buffer) > 0)
            ;
        _exit(0);
    }
    close(pipe_ends[0]);
    char buffer[4096];
    ssize_t got;
    while ((got = read(conn, buffer, sizeof buffer)) > 0) {
        if (write(conn, buffer, (size_t)got) != got || write(pipe_ends[1], buffer, (size_t)got) != got)
            break;
    }
    _exit(0);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: relay_to_helper PORT CONNECTIONS\n");
        return 2;
    }
    return fork_per_connection(listen_loopback(argv[1], 0), atoi(argv[2]), relay);
}
