/* The fork-per-connection loop of the test servers: reap what has exited (WNOHANG) before each accept,
 * fork a child per connection that closes the listener and runs SERVE on the connection (SERVE never
 * returns: it ends the child), close the parent's copy, then close the listener and wait for every child.
 *
 * Returns the server's exit status: 0, or 1 when accept fails.
 */
#ifndef FORK_PER_CONNECTION_H
#define FORK_PER_CONNECTION_H

#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int fork_per_connection(int listener, int connections, void (*serve)(int conn))
{
    for (int served = 0; served < connections; served++) {
        while (waitpid(-1, NULL, WNOHANG) > 0)
            ;
        int conn = accept(listener, NULL, NULL);
        if (conn < 0)
            return 1;
        if (fork() == 0) {
            close(listener);
            serve(conn);
        }
        close(conn);
    }
    close(listener);
    while (wait(NULL) > 0)
        ;
    return 0;
}

#endif
