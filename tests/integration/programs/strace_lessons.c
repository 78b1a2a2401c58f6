/* Every form an strace -f log takes for the lessons of the harness, in one run, ordered by sleep-free handshakes.
 *
 *   strace_lessons
 *
 * 1. A SIGCHLD handler without SA_RESTART; a child exits while the parent blocks in accept:
 *    accept = ? ERESTARTSYS, --- SIGCHLD ---, rt_sigreturn, accept = -1 EINTR; the parent reaps it.
 * 2. A second child exits with status 1 while the parent blocks in pause: ERESTARTNOHAND, then EINTR.
 * 3. SIGCHLD back at SIG_DFL; a third child exits while the parent blocks in poll: traced, poll stops with
 *    ERESTART_RESTARTBLOCK and goes on through restart_syscall, which a fourth child ends by writing to a pipe.
 * 4. A thread that exits by itself (clone with CLONE_THREAD), joined.
 * 5. A fifth child, killed by SIGTERM while it waits in pause; the parent reaps it, then exits with 3.
 */
#include "handshake.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static void nothing(int sig)
{
    (void)sig;
}

static void install(int sig, void (*handler)(int), int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sa.sa_flags = flags;
    sigaction(sig, &sa, NULL);
}

/* A child that exits with `status` once its parent sleeps (in the call the parent makes next). */
static pid_t exits_when_parent_sleeps(int status)
{
    pid_t parent = getpid();
    pid_t child = fork();
    if (child == 0) {
        wait_until_sleeping(parent);
        _exit(status);
    }
    return child;
}

static void *thread_body(void *arg)
{
    return arg;
}

int main(void)
{
    install(SIGCHLD, nothing, 0);
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(listener, (struct sockaddr *)&address, sizeof address);
    listen(listener, 1);

    pid_t first = exits_when_parent_sleeps(0);
    if (accept(listener, NULL, NULL) != -1 || errno != EINTR)
        return 10;
    waitpid(first, NULL, 0);

    pid_t second = exits_when_parent_sleeps(1);
    pause();
    waitpid(second, NULL, 0);

    install(SIGCHLD, SIG_DFL, 0);
    int ends[2];
    if (pipe(ends) != 0)
        return 11;
    pid_t parent = getpid();
    pid_t third = exits_when_parent_sleeps(0);
    pid_t fourth = fork();
    if (fourth == 0) {
        wait_until_in_call(parent, SYS_restart_syscall);
        if (write(ends[1], "x", 1) != 1)
            _exit(1);
        _exit(0);
    }
    struct pollfd watched = {.fd = ends[0], .events = POLLIN};
    poll(&watched, 1, -1);
    waitpid(third, NULL, 0);
    waitpid(fourth, NULL, 0);

    pthread_t thread;
    pthread_create(&thread, NULL, thread_body, NULL);
    pthread_join(thread, NULL);

    pid_t fifth = fork();
    if (fifth == 0) {
        pause();
        _exit(0);
    }
    wait_until_sleeping(fifth);
    kill(fifth, SIGTERM);
    waitpid(fifth, NULL, 0);
    return 3;
}
