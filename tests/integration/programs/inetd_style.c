/* An inetd-style server: each connection's child execs a service (cat) with the connection as its stdio.
 *
 *   inetd_style PORT CONNECTIONS cloexec|inherit LISTEN_FD [moved]
 *
 * The listening socket is made at LISTEN_FD (3; or 7, the numbers below it
 * taken first, as a superserver's other services take them).  With "cloexec" it
 * is marked FD_CLOEXEC, so the child's execve closes it and no child ever
 * calls close on it; with "inherit" it is not, and cat holds the port until
 * it exits.  The parent reaps with WNOHANG before each accept and waits for
 * the last children before it exits, so no zombie is left.
 *
 * With "moved", each child first moves the listener out of the way as some
 * daemons do, dup2(listener, 20) then close(listener): dup2 clears the
 * close-on-exec flag on the new number (dup2(2)), so cat holds the listener
 * at fd 20 whatever the first number's flag was.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "listen_loopback.h"

int main(int argc, char **argv)
{
    if (argc < 5 || argc > 6 || (strcmp(argv[3], "cloexec") != 0 && strcmp(argv[3], "inherit") != 0)) {
        fprintf(stderr, "usage: inetd_style PORT CONNECTIONS cloexec|inherit LISTEN_FD [moved]\n");
        return 2;
    }
    int connections = atoi(argv[2]), wanted = atoi(argv[4]);
    /* The descriptors below LISTEN_FD are taken first (as a superserver's other services take them). */
    for (int fd = 3; fd < wanted; fd++)
        if (open("/dev/null", O_RDONLY | O_CLOEXEC) < 0) {
            perror("open");
            return 1;
        }
    int listener = listen_loopback(argv[1], 0);
    if (listener != wanted) {
        fprintf(stderr, "the listening socket is fd %d, not %d\n", listener, wanted);
        return 1;
    }
    if (strcmp(argv[3], "cloexec") == 0)
        fcntl(listener, F_SETFD, FD_CLOEXEC);
    for (int served = 0; served < connections; served++) {
        while (waitpid(-1, NULL, WNOHANG) > 0)
            ;
        int conn = accept(listener, NULL, NULL);
        if (conn < 0) {
            perror("accept");
            return 1;
        }
        pid_t child = fork();
        if (child == 0) {
            if (argc == 6 && strcmp(argv[5], "moved") == 0) {
                dup2(listener, 20);
                close(listener);
            }
            dup2(conn, 0);
            dup2(conn, 1);
            close(conn);
            execlp("cat", "cat", (char *)NULL);
            _exit(127);
        }
        close(conn);
    }
    close(listener);
    while (wait(NULL) > 0)
        ;
    return 0;
}
