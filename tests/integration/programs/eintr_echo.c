/* A fork-per-connection echo server whose SIGCHLD handler reaps; what its child does when read fails with EINTR
 * is the second argument, the lesson of a sweep:
 *   giveup   handler without SA_RESTART; the child gives up when read fails (exits 1): broken by a signal there
 *   retry    handler without SA_RESTART; the child reads again after EINTR: retried
 *   restart  handler with SA_RESTART; the child would give up, but the kernel restarts read: restarted
 * The accept loop retries after EINTR in every mode, and the final wait too.
 *
 * Usage: eintr_echo PORT MODE CONNECTIONS
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "reaping_fork_server.h"

static int retry_read;

static void serve(int conn)
{
    char buffer[4096];
    for (;;) {
        ssize_t got = read(conn, buffer, sizeof buffer);
        if (got < 0 && errno == EINTR && retry_read)
            continue;
        if (got < 0)
            _exit(1); /* gives up, and its client gets no answer */
        if (got == 0 || write(conn, buffer, (size_t)got) != got)
            _exit(0);
    }
}

int main(int argc, char **argv)
{
    if (argc != 4)
        return 2;
    retry_read = strcmp(argv[2], "retry") == 0;
    return reaping_fork_server(argv[1], atoi(argv[3]), strcmp(argv[2], "restart") == 0 ? SA_RESTART : 0, serve);
}
