/* An iterative echo server whose main thread blocks SIGCHLD and whose one worker thread takes it: the worker
 * unblocks SIGCHLD, accepts each connection (again after EINTR) and reads its request once, giving up when the
 * read fails (exit 1).  The SIGCHLD handler has no SA_RESTART.  What a sweep must read is the sleeping
 * thread's own signal mask, not the main thread's: a SIGCHLD at the worker's read breaks the server.
 *
 * Usage: thread_takes_sigchld PORT CONNECTIONS
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "listen_loopback.h"

static int listener, connections;

static void reap_children(int sig)
{
    (void)sig;
    int saved = errno;
    while (waitpid(-1, NULL, WNOHANG) > 0)
        ;
    errno = saved;
}

static void *serve(void *unused)
{
    (void)unused;
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    pthread_sigmask(SIG_UNBLOCK, &chld, NULL);
    for (int served = 0; served < connections;) {
        int conn = accept(listener, NULL, NULL);
        if (conn < 0 && errno == EINTR)
            continue;
        if (conn < 0)
            exit(1);
        served++;
        char buffer[512];
        ssize_t got = read(conn, buffer, sizeof buffer);
        if (got < 0)
            exit(1); /* gives up on EINTR */
        if (got > 0 && write(conn, buffer, (size_t)got) != got)
            exit(1);
        close(conn);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    connections = atoi(argv[2]);
    struct sigaction action = {.sa_handler = reap_children};
    sigaction(SIGCHLD, &action, NULL);
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    pthread_sigmask(SIG_BLOCK, &chld, NULL); /* the worker, made after, unblocks it for itself */
    listener = listen_loopback(argv[1], 0);
    pthread_t worker;
    pthread_create(&worker, NULL, serve, NULL);
    pthread_join(worker, NULL);
    return 0;
}
