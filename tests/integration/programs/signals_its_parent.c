/* A server that signals its parent (the harness) before it serves: SIGUSR1, SIGUSR2 and SIGALRM, whose default
 * action ends a process, then SIGHUP when its first argument says so.
 *
 *   signals_its_parent PORT CONNECTIONS [hup]
 *
 * The harness uses none of the first three: they must not end it.  SIGHUP is
 * what a closing terminal sends: the harness ends the run in order and says so.
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

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: signals_its_parent PORT CONNECTIONS [hup]\n");
        return 2;
    }
    pid_t harness = getppid();
    kill(harness, SIGUSR1);
    kill(harness, SIGUSR2);
    kill(harness, SIGALRM);
    if (argc > 3 && strcmp(argv[3], "hup") == 0)
        kill(harness, SIGHUP);
    int connections = atoi(argv[2]);
    int listener = listen_loopback(argv[1], 0);
    for (int served = 0; served < connections; served++) {
        int conn = accept(listener, NULL, NULL);
        if (conn < 0)
            return 1;
        echo_until_eof(conn);
        close(conn);
    }
    return 0;
}
