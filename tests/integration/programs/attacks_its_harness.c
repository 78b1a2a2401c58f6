/* A server that turns on its parent, the harness, before it serves: every signal that would stop or end it,
 * PTRACE_ATTACH, a pidfd to signal it later, and a kill whose pid has junk in its upper 32 bits.
 *
 *   attacks_its_harness PORT CONNECTIONS
 *
 * Each must fail with EPERM (the harness makes every call on itself fail), and a probe, kill(parent, 0),
 * must succeed.  It exits with the number of calls that did otherwise: 0 when the harness held.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "echo_until_eof.h"
#include "listen_loopback.h"

static int wrong;

static void expect_refused(const char *what, long result)
{
    if (result != -1 || errno != EPERM) {
        fprintf(stderr, "attacks_its_harness: %s was not refused (%ld)\n", what, result);
        wrong++;
    }
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: attacks_its_harness PORT CONNECTIONS\n");
        return 2;
    }
    pid_t harness = getppid();
    int stops[] = {SIGUSR1, SIGUSR2, SIGALRM, SIGHUP, SIGTERM, SIGINT, SIGSTOP, SIGKILL};
    for (size_t i = 0; i < sizeof stops / sizeof stops[0]; i++)
        expect_refused("kill", kill(harness, stops[i]));
    expect_refused("kill with junk above the pid", syscall(SYS_kill, 0xdefaced00000000L | harness, SIGTERM));
    expect_refused("tgkill", syscall(SYS_tgkill, harness, harness, SIGTERM));
    expect_refused("tkill", syscall(SYS_tkill, harness, SIGTERM));
    expect_refused("rt_sigqueueinfo", syscall(SYS_rt_sigqueueinfo, harness, SIGTERM, NULL));
    expect_refused("ptrace(PTRACE_ATTACH)", ptrace(PTRACE_ATTACH, harness, 0, 0));
    expect_refused("ptrace(PTRACE_SEIZE)", ptrace(PTRACE_SEIZE, harness, 0, 0));
    expect_refused("pidfd_open", syscall(SYS_pidfd_open, harness, 0));
    if (kill(harness, 0) != 0) {
        perror("attacks_its_harness: kill(parent, 0)");
        wrong++;
    }
    int connections = atoi(argv[2]);
    int listener = listen_loopback(argv[1], 0);
    for (int served = 0; served < connections; served++) {
        int conn = accept(listener, NULL, NULL);
        if (conn < 0)
            return 100;
        echo_until_eof(conn);
        close(conn);
    }
    return wrong;
}
