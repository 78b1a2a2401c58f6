/* Apache's parent at shutdown: a fork server that, once done, sends SIGTERM to its whole process group.
 *
 *   signals_its_group PORT CONNECTIONS
 *
 * It serves CONNECTIONS clients (a child each), then calls kill(0, SIGTERM),
 * as Apache's prefork parent signals its group to stop its children.  Its own
 * handler only notes the signal.  Run in the harness's process group, that
 * kill would end the harness (and reach the user's shell); in a group of its
 * own, it reaches only the server.  It then reaps its children and exits 0.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "echo_until_eof.h"
#include "listen_loopback.h"

static volatile sig_atomic_t told;

static void note(int signum)
{
    (void)signum;
    told = 1;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: signals_its_group PORT CONNECTIONS\n");
        return 2;
    }
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = note;
    action.sa_flags = SA_RESTART;
    sigaction(SIGTERM, &action, NULL);
    int connections = atoi(argv[2]);
    int listener = listen_loopback(argv[1], 0);
    for (int served = 0; served < connections; served++) {
        int conn = accept(listener, NULL, NULL);
        if (conn < 0)
            return 1;
        if (fork() == 0) {
            close(listener);
            echo_until_eof(conn);
            _exit(0);
        }
        close(conn);
    }
    close(listener);
    kill(0, SIGTERM);
    while (wait(NULL) > 0)
        ;
    return told ? 0 : 3;
}
