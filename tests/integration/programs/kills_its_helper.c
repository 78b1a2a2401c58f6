/* socat's shape: each connection's child starts a helper, kills it with SIGTERM when the connection ends, and
 * exits at once without waiting for it.
 *
 *   kills_its_helper PORT CONNECTIONS
 *
 * The helper is never reaped by the child that killed it: it is a zombie only
 * until that child exits, a moment later, when the kernel re-parents it to the
 * subreaper or init, which reaps it.  Nothing fills the process table.  The
 * server reaps its own children with WNOHANG before each accept, and waits for
 * the rest before it exits.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "echo_until_eof.h"
#include "fork_per_connection.h"
#include "listen_loopback.h"

static void serve(int conn)
{
    pid_t helper = fork();
    if (helper == 0) {
        close(conn);
        for (;;)
            pause();
    }
    echo_until_eof(conn);
    kill(helper, SIGTERM);
    _exit(0);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: kills_its_helper PORT CONNECTIONS\n");
        return 2;
    }
    return fork_per_connection(listen_loopback(argv[1], 0), atoi(argv[2]), serve);
}
