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

#include "listen_loopback.h"

static int retry_read;

static void reap(int sig)
{
    (void)sig;
    int saved = errno;
    while (waitpid(-1, NULL, WNOHANG) > 0)
        ;
    errno = saved;
}

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
    struct sigaction action = {.sa_handler = reap};
    action.sa_flags = strcmp(argv[2], "restart") == 0 ? SA_RESTART : 0;
    retry_read = strcmp(argv[2], "retry") == 0;
    sigaction(SIGCHLD, &action, NULL);
    int listener = listen_loopback(argv[1], 0);
    for (int served = 0; served < atoi(argv[3]);) {
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
