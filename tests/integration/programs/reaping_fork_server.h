/* The sweep's test servers: a SIGCHLD handler that reaps (saving errno), installed with `sa_flags`, and a
 * fork-per-connection loop whose accept and final wait retry after EINTR; each child runs SERVE on its
 * connection (SERVE never returns: it ends the child).  Returns the server's exit status.
 */
#ifndef REAPING_FORK_SERVER_H
#define REAPING_FORK_SERVER_H

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "listen_loopback.h"

static void reap_children(int sig)
{
    (void)sig;
    int saved = errno;
    while (waitpid(-1, NULL, WNOHANG) > 0)
        ;
    errno = saved;
}

static int reaping_fork_server(const char *port, int connections, int sa_flags, void (*serve)(int conn))
{
    struct sigaction action = {.sa_handler = reap_children, .sa_flags = sa_flags};
    sigaction(SIGCHLD, &action, NULL);
    int listener = listen_loopback(port, 0);
    for (int served = 0; served < connections;) {
        int conn = accept(listener, NULL, NULL);
        if (conn < 0 && errno == EINTR)
            continue;
        if (conn < 0)
            return 1;
        served++;
        if (fork() == 0) {
            close(listener);
            serve(conn);
        }
        close(conn);
    }
    close(listener);
    while (wait(NULL) > 0 || errno == EINTR)
        ;
    return 0;
}

#endif
