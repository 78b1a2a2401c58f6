/* echo_server.c - the C multi-process echo server, SIGCHLD handler without SA_RESTART.
 *
 * Usage: echo_server [PORT [CONNECTIONS]]
 *   PORT         TCP port on 127.0.0.1 (default $HARNESS_PORT, else 0: the kernel picks one)
 *   CONNECTIONS  serve this many connections, reap the children, exit 0
 *                (default $HARNESS_CONNECTIONS, else 0: serve forever)
 * It prints "listening on 127.0.0.1:PORT" with the port really bound.
 *
 * One child per connection (fork), which echoes with read/write until EOF.
 * A SIGCHLD handler reaps the ended children with waitpid(-1, NULL, WNOHANG),
 * saving and restoring errno, as a handler must not disturb the code it
 * interrupted.  It is installed with sa_flags = 0: no SA_RESTART.  So when a
 * child ends while the parent blocks in accept, accept fails with EINTR and
 * the loop prints "accept: Interrupted system call" (perror) and calls
 * accept again: in C, retrying after EINTR is the program's job.
 *
 * What the trace shows when a child ends while the parent waits in accept:
 *   rt_sigaction(SIGCHLD, {sa_handler=..., sa_flags=SA_RESTORER}, ...)   no SA_RESTART
 *   accept(3, ...) = ? ERESTARTSYS      the kernel's internal code, only a tracer sees it
 *   --- SIGCHLD {si_code=CLD_EXITED, si_pid=CHILD, ...} ---
 *   wait4(-1, NULL, WNOHANG) = CHILD    the handler, running inside the signal delivery
 *   wait4(-1, NULL, WNOHANG) = -1 ECHILD (or 0 while other children run)
 *   rt_sigreturn() = -1 EINTR           back from the handler: the kernel fails accept
 *   accept(3, ...                       called again by the loop, after the perror
 * Unlike Python's, a C handler runs right away, before rt_sigreturn, so the
 * wait4 calls come between the signal and rt_sigreturn.  (glibc's accept()
 * is the accept system call on x86_64, not accept4.)
 *
 * echo_server_restart.c is this same program built with SA_RESTART: see there.
 *
 * After CONNECTIONS connections: close the listening socket, block SIGCHLD
 * (so that the handler cannot reap behind our back), and reap every child
 * left with blocking waitpid calls until ECHILD; exit 0.
 *
 * SIGTERM: exit 0.  In the server, the handler sets a flag and shuts the
 * listening socket down: accept fails (EINTR when the signal interrupts it,
 * EINVAL when it comes just before), the loop sees the flag and returns 0
 * without waiting for the children.  The shutdown closes the race that a flag
 * alone has: a SIGTERM arriving between the test of the flag and the call to
 * accept would otherwise be noticed only at the next connection.  In a
 * connection's child, or in the server once it has stopped accepting, the
 * handler just calls _exit(0).
 *
 * Build: cc -Wall -Wextra -Werror -O1 -o echo_server echo_server.c
 */
#define _XOPEN_SOURCE 700 /* sigaction, SA_RESTART */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef ECHO_SA_FLAGS
#define ECHO_SA_FLAGS 0 /* no SA_RESTART: a blocking accept fails with EINTR */
#endif

static volatile sig_atomic_t terminating = 0;
static pid_t server_pid; /* set once, before any handler is installed */
static volatile sig_atomic_t listen_fd = -1; /* -1 once the listening socket is closed */
static const char *program = "echo_server";

/* SIGCHLD: reap every child that has ended; one signal may stand for several. */
static void reap_children(int sig)
{
    (void)sig;
    int saved_errno = errno; /* waitpid sets errno (ECHILD at the end) */
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
    errno = saved_errno;
}

/* SIGTERM: the accepting server stops accepting (see the comment at the top); any other time, and
 * in a connection's child, the process just ends.  getpid, shutdown and _exit are async-signal-safe. */
static void on_sigterm(int sig)
{
    (void)sig;
    int fd = listen_fd;
    if (getpid() != server_pid || fd < 0)
        _exit(0);
    terminating = 1;
    shutdown(fd, SHUT_RDWR); /* wakes a blocked accept, and fails any later one at once */
}

static int install(int sig, void (*handler)(int), int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = flags;
    return sigaction(sig, &sa, NULL);
}

/* An argument, else an environment variable, else 0; exits with status 2 if it is not a number in [0, max]. */
static long number(const char *arg, const char *env_name, long max, const char *what)
{
    const char *text = arg ? arg : getenv(env_name);
    if (text == NULL || *text == '\0')
        return 0;
    char *end;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (errno != 0 || *end != '\0' || value < 0 || value > max) {
        fprintf(stderr, "%s: bad %s: %s\nusage: %s [PORT [CONNECTIONS]]\n", program, what, text, program);
        exit(2);
    }
    return value;
}

/* Listen on 127.0.0.1:port and announce the port really bound. */
static int listen_and_announce(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        perror("socket");
        exit(1);
    }
    int on = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0) {
        perror("setsockopt");
        exit(1);
    }
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons((unsigned short)port);
    socklen_t len = sizeof addr;
    if (bind(fd, (struct sockaddr *)&addr, len) < 0 || listen(fd, 128) < 0
        || getsockname(fd, (struct sockaddr *)&addr, &len) < 0) {
        perror("listen");
        exit(1);
    }
    printf("listening on 127.0.0.1:%d\n", ntohs(addr.sin_port));
    fflush(stdout); /* a pipe makes stdout fully buffered, and the harness waits for this line */
    return fd;
}

/* Send back everything read from conn until EOF.  Returns 0 at EOF, -1 on an error.
 * (A client that resets the connection while we write kills this child with SIGPIPE:
 * its parent reaps it like any other.) */
static int echo(int conn)
{
    char buf[4096];
    for (;;) {
        ssize_t got = read(conn, buf, sizeof buf);
        if (got == 0)
            return 0; /* EOF: the client closed its side */
        if (got < 0) {
            perror("read");
            return -1;
        }
        for (ssize_t sent = 0; sent < got;) { /* write may send less than asked */
            ssize_t n = write(conn, buf + sent, (size_t)(got - sent));
            if (n < 0) {
                perror("write");
                return -1;
            }
            sent += n;
        }
    }
}

int main(int argc, char **argv)
{
    if (argc > 0)
        program = argv[0];
    if (argc > 3) {
        fprintf(stderr, "usage: %s [PORT [CONNECTIONS]]\n", program);
        return 2;
    }
    int port = (int)number(argc > 1 ? argv[1] : NULL, "HARNESS_PORT", 65535, "port");
    long connections = number(argc > 2 ? argv[2] : NULL, "HARNESS_CONNECTIONS", 1000000000L, "connection count");

    server_pid = getpid();
    if (install(SIGTERM, on_sigterm, 0) < 0 || install(SIGCHLD, reap_children, ECHO_SA_FLAGS) < 0) {
        perror("sigaction");
        return 1;
    }
    listen_fd = listen_and_announce(port);

    for (long served = 0; !terminating && (connections == 0 || served < connections);) {
        int conn = accept(listen_fd, NULL, NULL);
        if (conn < 0) {
            if (terminating)
                break;
            if (errno == EINTR) {
                perror("accept"); /* "accept: Interrupted system call" */
                continue;
            }
            perror("accept");
            exit(1);
        }
        pid_t pid = fork();
        if (pid < 0) {
            perror("fork");
            close(conn);
            continue;
        }
        if (pid == 0) { /* the child: serve this connection only */
            close(listen_fd);
            listen_fd = -1;
            int status = echo(conn) == 0 ? 0 : 1;
            close(conn);
            _exit(status); /* not exit(): nothing of the parent's (stdio buffers, atexit) runs twice */
        }
        close(conn); /* the parent: the child has its own copy */
        served++;
    }

    int fd = listen_fd;
    listen_fd = -1; /* first, so that the SIGTERM handler never touches a closed descriptor */
    close(fd);
    if (terminating)
        return 0;

    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    while (waitpid(-1, NULL, 0) > 0 || errno == EINTR) {
    }
    if (errno != ECHILD) {
        perror("waitpid");
        return 1;
    }
    return 0;
}
