/* One interruption story per mode, each ordered by sleep-free handshakes.
 *
 *   interruptions poll_dfl     SIGCHLD at SIG_DFL while the parent blocks in poll: traced, poll
 *                              stops with ERESTART_RESTARTBLOCK and resumes through restart_syscall;
 *                              untraced, the signal is discarded and nothing wakes (a tracer artefact:
 *                              untraced, this mode blocks for ever, the parent never switching again).
 *                              A second child then wakes poll by writing to the pipe.
 *   interruptions pause        a SIGUSR1 handler without SA_RESTART interrupts pause (not traced by
 *                              default): rt_sigreturn = -1 EINTR, and only the signal event names pause.
 *   interruptions wait_then_sigchld
 *                              wait4(pid) returns the child's pid just before SIGCHLD is delivered:
 *                              its handler's rt_sigreturn "returns" that pid (restored), not EINTR.
 *   interruptions prefork      two pre-fork workers accept on the listening socket they inherited;
 *                              the first serves one connection and exits 0 without closing it (its
 *                              job); the second is killed by SIGKILL inside accept.
 *   interruptions no_reap      a SIGCHLD handler that does not reap: the child stays a zombie across
 *                              the next accept and is reaped only at the end.
 *   interruptions eintr_loop   a C accept loop of its own: a SIGCHLD handler without SA_RESTART makes
 *                              accept fail with EINTR, the loop prints it and calls accept again.
 *
 * Every other SIGCHLD is blocked where it is not the subject, so that its delivery cannot race.
 */
#include "handshake.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>

static volatile sig_atomic_t got;

static void note(int sig)
{
    (void)sig;
    got = 1; /* does not reap: the child stays a zombie */
}

static void reap(int sig)
{
    (void)sig;
    int saved = errno;
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
    errno = saved;
}

static void install(int sig, void (*handler)(int), int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sa.sa_flags = flags;
    sigaction(sig, &sa, NULL);
}

static void block_sigchld(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, NULL);
}

/* How many times a process has gone to sleep or stopped (voluntary_ctxt_switches, proc(5)). */
static unsigned long voluntary_switches(pid_t pid)
{
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    int fd = open(path, O_RDONLY);
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    const char *at = strstr(buf, "\nvoluntary_ctxt_switches:");
    return at ? strtoul(at + strlen("\nvoluntary_ctxt_switches:"), NULL, 10) : 0;
}

/* Wait until a process that slept with `before` switches has woken and gone to sleep again.
 * Why not wait for the exited child to be a zombie: a traced child's exit is reported to the
 * tracer first, and its parent gets SIGCHLD only when the tracer has collected it, so a zombie
 * may still be unknown to the parent.  The parent's own switches count what it did. */
static void wait_until_sleeping_again(pid_t pid, unsigned long before)
{
    while (voluntary_switches(pid) == before)
        sched_yield();
    wait_until_sleeping(pid);
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

/* Block until every writer of the pipe has closed it: a gate the parent opens by closing its end. */
static void hold_until_closed(int fd)
{
    char c;
    while (read(fd, &c, 1) > 0) {
    }
}

static void connect_once(const struct sockaddr_in *addr)
{
    int c = socket(AF_INET, SOCK_STREAM, 0);
    if (c < 0 || connect(c, (const struct sockaddr *)addr, sizeof *addr) < 0) {
        perror("connect");
        _exit(3);
    }
    close(c);
}

static int poll_dfl(void)
{
    pid_t parent = getpid();
    int fds[2], gate[2], done[2];
    if (pipe(fds) < 0 || pipe(gate) < 0 || pipe(done) < 0)
        return 2;
    pid_t first = fork();
    if (first == 0) {
        dup2(gate[0], gate[1]); /* drop the gate's write end without a traced close */
        hold_until_closed(gate[0]); /* exit when the second child says so */
        _exit(0);
    }
    pid_t second = fork();
    if (second == 0) {
        wait_until_sleeping(parent); /* in poll */
        unsigned long before = voluntary_switches(parent);
        dup2(gate[0], gate[1]); /* the first child exits now */
        wait_until_sleeping_again(parent, before); /* woken by SIGCHLD, asleep in restart_syscall */
        if (write(fds[1], "x", 1) != 1)
            _exit(4);
        dup2(done[0], done[1]);
        hold_until_closed(done[0]); /* exit only once the parent has blocked SIGCHLD */
        _exit(0);
    }
    dup2(fds[0], gate[1]); /* only the second child holds the gate open */
    struct pollfd pfd = {.fd = fds[0], .events = POLLIN};
    if (poll(&pfd, 1, -1) != 1)
        perror("poll");
    block_sigchld();
    dup2(fds[0], done[1]); /* lets the second child exit, without a traced close */
    waitpid(first, NULL, 0);
    waitpid(second, NULL, 0);
    return 0;
}

static int pause_interrupted(void)
{
    pid_t parent = getpid();
    block_sigchld();
    install(SIGUSR1, note, 0);
    pid_t child = fork();
    if (child == 0) {
        wait_until_sleeping(parent);
        kill(parent, SIGUSR1);
        _exit(0);
    }
    pause();
    waitpid(child, NULL, 0);
    return got ? 0 : 1;
}

static int wait_then_sigchld(void)
{
    pid_t parent = getpid();
    install(SIGCHLD, note, SA_RESTART);
    pid_t child = fork();
    if (child == 0) {
        wait_until_sleeping(parent);
        _exit(0);
    }
    return waitpid(child, NULL, 0) == child && got ? 0 : 1;
}

static int prefork(void)
{
    struct sockaddr_in addr;
    int listener = listen_loopback(&addr);
    block_sigchld();
    pid_t worker = fork();
    if (worker == 0) {
        int conn = accept(listener, NULL, NULL); /* the job of a pre-fork worker */
        close(conn);
        _exit(0); /* its copy of the listening socket ends with it */
    }
    wait_until_sleeping(worker);
    connect_once(&addr);
    waitpid(worker, NULL, 0);
    pid_t doomed = fork();
    if (doomed == 0) {
        accept(listener, NULL, NULL);
        _exit(1);
    }
    wait_until_sleeping(doomed);
    kill(doomed, SIGKILL);
    waitpid(doomed, NULL, 0);
    close(listener);
    return 0;
}

static int accept_loop(void (*handler)(int))
{
    pid_t parent = getpid();
    struct sockaddr_in addr;
    int listener = listen_loopback(&addr);
    int gate[2], done[2];
    if (pipe(gate) < 0 || pipe(done) < 0)
        return 2;
    install(SIGCHLD, handler, 0);
    pid_t child = fork();
    if (child == 0) {
        dup2(gate[0], gate[1]);
        hold_until_closed(gate[0]); /* exit when the client says so: the parent blocks in accept */
        _exit(0);
    }
    pid_t client = fork();
    if (client == 0) {
        wait_until_sleeping(parent); /* in accept */
        unsigned long before = voluntary_switches(parent);
        dup2(gate[0], gate[1]); /* the child exits now and interrupts accept */
        wait_until_sleeping_again(parent, before); /* in accept again, after the EINTR */
        connect_once(&addr);
        dup2(done[0], done[1]);
        hold_until_closed(done[0]); /* exit only once the parent has blocked SIGCHLD */
        _exit(0);
    }
    dup2(listener, gate[1]); /* only the client holds the gate open */
    for (;;) {
        int conn = accept(listener, NULL, NULL);
        if (conn >= 0) {
            close(conn);
            break;
        }
        if (errno != EINTR)
            return 2;
        perror("accept"); /* the program's own loop sees EINTR, says so, and calls again */
    }
    block_sigchld();
    dup2(listener, done[1]); /* lets the client exit, without a traced close */
    close(listener);
    while (waitpid(-1, NULL, 0) > 0) {
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "poll_dfl") == 0)
        return poll_dfl();
    if (strcmp(mode, "pause") == 0)
        return pause_interrupted();
    if (strcmp(mode, "wait_then_sigchld") == 0)
        return wait_then_sigchld();
    if (strcmp(mode, "prefork") == 0)
        return prefork();
    if (strcmp(mode, "no_reap") == 0)
        return accept_loop(note);
    if (strcmp(mode, "eintr_loop") == 0)
        return accept_loop(reap);
    fprintf(stderr, "usage: interruptions poll_dfl|pause|wait_then_sigchld|prefork|no_reap|eintr_loop\n");
    return 2;
}
