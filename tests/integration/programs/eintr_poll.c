/* A fork-per-connection echo server whose child waits for its client with poll (a 10 s timeout) or select (the
 * same timeout, set again before each call), then reads; its SIGCHLD handler reaps.  The second argument:
 *   poll     the child gives up when poll fails (exits 1).  poll returns ERESTART_RESTARTBLOCK when a signal
 *            interrupts it, which a handler turns into EINTR with or without SA_RESTART (signal(7)): SA_RESTART
 *            cannot save it.
 *   select   the child calls select again after EINTR, with its whole timeout again (a loop that restarts its
 *            timeout from zero); select returns ERESTARTNOHAND, which a handler turns into EINTR.
 * The accept loop and the final wait retry after EINTR.
 *
 * Usage: eintr_poll PORT MODE CONNECTIONS
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "reaping_fork_server.h"

static int use_select;

static int wait_for_client(int conn)
{
    if (!use_select) {
        struct pollfd watched = {.fd = conn, .events = POLLIN};
        return poll(&watched, 1, 10000);
    }
    for (;;) {
        fd_set readable;
        FD_ZERO(&readable);
        FD_SET(conn, &readable);
        struct timeval timeout = {.tv_sec = 10}; /* the whole timeout again, each time */
        int ready = select(conn + 1, &readable, NULL, NULL, &timeout);
        if (ready >= 0 || errno != EINTR)
            return ready;
    }
}

static void serve(int conn)
{
    char buffer[4096];
    for (;;) {
        if (wait_for_client(conn) <= 0)
            _exit(1); /* gives up: an error, or the time ran out */
        ssize_t got = read(conn, buffer, sizeof buffer);
        if (got <= 0 || write(conn, buffer, (size_t)got) != got)
            _exit(got == 0 ? 0 : 1);
    }
}

int main(int argc, char **argv)
{
    if (argc != 4)
        return 2;
    use_select = strcmp(argv[2], "select") == 0;
    return reaping_fork_server(argv[1], atoi(argv[3]), 0, serve);
}
