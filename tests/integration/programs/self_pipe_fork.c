/* A C fork server with a self-pipe: its SIGCHLD handler writes a byte to a pipe, its poll loop reaps.
 *
 *   self_pipe_fork PORT forever     serves until SIGTERM (whose handler writes to the pipe too), then
 *                                    reaps what is left and exits 0
 *
 * The handlers are installed with SA_RESTART, which poll ignores (signal(7): poll is never restarted
 * after a handler): poll fails with EINTR, the loop enters it again, finds the pipe readable, and reaps.
 */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "echo_until_eof.h"
#include "listen_loopback.h"

static int wake[2];
static volatile sig_atomic_t stopping;

static void on_signal(int signum)
{
    int saved = errno;
    char byte = (char)signum;
    if (signum == SIGTERM)
        stopping = 1;
    if (write(wake[1], &byte, 1) < 0) {
        /* the pipe is full: a wake-up is pending already */
    }
    errno = saved;
}

int main(int argc, char **argv)
{
    if (argc != 3 || strcmp(argv[2], "forever") != 0) {
        fprintf(stderr, "usage: self_pipe_fork PORT forever\n");
        return 2;
    }
    if (pipe2(wake, O_NONBLOCK | O_CLOEXEC) != 0) {
        perror("pipe2");
        return 1;
    }
    struct sigaction action = {.sa_handler = on_signal, .sa_flags = SA_RESTART};
    sigemptyset(&action.sa_mask);
    sigaction(SIGCHLD, &action, NULL);
    sigaction(SIGTERM, &action, NULL);
    int listener = listen_loopback(argv[1], SOCK_CLOEXEC);
    int children = 0;
    while (!stopping) {
        struct pollfd watched[2] = {{.fd = listener, .events = POLLIN}, {.fd = wake[0], .events = POLLIN}};
        if (poll(watched, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            perror("poll");
            return 1;
        }
        if (watched[1].revents & POLLIN) {
            char bytes[64];
            while (read(wake[0], bytes, sizeof bytes) > 0)
                ;
            while (children > 0 && waitpid(-1, NULL, WNOHANG) > 0)
                children--;
        }
        if (!stopping && (watched[0].revents & POLLIN)) {
            int conn = accept(listener, NULL, NULL);
            if (conn < 0)
                continue;
            pid_t child = fork();
            if (child == 0) {
                echo_until_eof(conn);
                _exit(0);
            }
            close(conn);
            children++;
        }
    }
    close(listener);
    while (children > 0 && wait(NULL) > 0)
        children--;
    return 0;
}
