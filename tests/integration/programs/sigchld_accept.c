/* A SIGCHLD handler interrupting a blocking accept, in three dispositions.
 *
 *   sigchld_accept norestart  handler without SA_RESTART: accept returns
 *                             ERESTARTSYS to the tracer, the handler reaps,
 *                             rt_sigreturn gives EINTR, accept fails with EINTR.
 *   sigchld_accept restart    handler with SA_RESTART: rt_sigreturn returns
 *                             accept's own number and accept is entered again;
 *                             a second child then connects.
 *   sigchld_accept ign        SIGCHLD set to SIG_IGN: the kernel reaps the
 *                             child, and wait4 reports ECHILD.
 */
#include "handshake.h"

#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>

static void reap(int sig)
{
    (void)sig;
    int saved = errno;
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
    errno = saved;
}

static int listen_loopback(struct sockaddr_in *addr)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    memset(addr, 0, sizeof *addr);
    addr->sin_family = AF_INET;
    addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof *addr;
    if (s < 0 || bind(s, (struct sockaddr *)addr, len) < 0 || listen(s, 5) < 0
        || getsockname(s, (struct sockaddr *)addr, &len) < 0) {
        perror("listen");
        exit(2);
    }
    return s;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "norestart";
    pid_t parent = getpid();

    if (strcmp(mode, "ign") == 0) {
        signal(SIGCHLD, SIG_IGN);
        if (fork() == 0)
            _exit(0);
        int status;
        if (wait(&status) < 0)
            perror("wait");
        return 0;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = reap;
    sa.sa_flags = strcmp(mode, "restart") == 0 ? SA_RESTART : 0;
    sigaction(SIGCHLD, &sa, NULL);

    struct sockaddr_in addr;
    int listener = listen_loopback(&addr);

    pid_t first = fork();
    if (first == 0) {
        wait_until_sleeping(parent);
        _exit(0);
    }
    pid_t second = 0;
    if (sa.sa_flags & SA_RESTART) {
        second = fork();
        if (second == 0) {
            /* connect only once the first child is reaped and accept has been re-entered */
            wait_until_reaped(first);
            wait_until_sleeping(parent);
            int c = socket(AF_INET, SOCK_STREAM, 0);
            if (connect(c, (struct sockaddr *)&addr, sizeof addr) < 0)
                _exit(1);
            char byte;
            (void)read(c, &byte, 1); /* until the parent closes the connection */
            _exit(0);
        }
    }

    int conn = accept(listener, NULL, NULL);
    if (conn < 0) {
        perror("accept");
        return 0;
    }
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL); /* the last reap is the main program's */
    close(conn);
    int status;
    waitpid(second, &status, 0);
    return 0;
}
