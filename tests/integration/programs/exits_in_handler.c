/* Apache's parent's shape: a fork server that waits in pselect6 with a timeout, and whose SIGTERM handler
 * cleans up and exits from inside the handler.
 *
 *   exits_in_handler PORT
 *
 * It serves until the harness's stop signal.  The handler closes the
 * listening socket, waits for every child and calls _exit(0): the interrupted
 * pselect6 never returns to the loop that called it, and no rt_sigreturn
 * follows the signal.  pselect6 is not among the calls a default trace
 * records: the signal's delivery names it.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "echo_until_eof.h"
#include "listen_loopback.h"

static int listener;

static void stop(int signum)
{
    (void)signum;
    close(listener);
    while (wait(NULL) > 0)
        ;
    _exit(0);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: exits_in_handler PORT\n");
        return 2;
    }
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = stop;
    sigaction(SIGTERM, &action, NULL);
    listener = listen_loopback(argv[1], 0);
    for (;;) {
        while (waitpid(-1, NULL, WNOHANG) > 0)
            ;
        fd_set readable;
        FD_ZERO(&readable);
        FD_SET(listener, &readable);
        struct timespec second = {.tv_sec = 1};
        if (pselect(listener + 1, &readable, NULL, NULL, &second, NULL) <= 0)
            continue;
        int conn = accept(listener, NULL, NULL);
        if (conn < 0)
            continue;
        if (fork() == 0) {
            close(listener);
            echo_until_eof(conn);
            _exit(0);
        }
        close(conn);
    }
}
