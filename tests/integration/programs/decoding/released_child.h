/* A child made by a raw clone(SIGCHLD), whose line the program prints, that waits on a pipe so
 * that the program decides when it ends: shared by wait4.c and waitid.c. */
#ifndef RELEASED_CHILD_H
#define RELEASED_CHILD_H

#include "oracle.h"

#include <signal.h>

static int pipefd[2];

/* A child that reads one byte, then _exit(CODE) or, with SIG, raises it first. */
static pid_t child(int code, int sig)
{
    if (pipe(pipefd))
        fail("pipe");
    fflush(stdout);
    long rc = syscall(SYS_clone, SIGCHLD, NULL, NULL, NULL, 0);
    if (rc < 0)
        fail("clone");
    if (rc == 0) {
        char c;
        if (sig == SIGSTOP)
            raise(SIGSTOP);
        if (read(pipefd[0], &c, 1) != 1)
            _exit(99);
        if (sig && sig != SIGSTOP)
            raise(sig);
        _exit(code);
    }
    printf("clone(child_stack=NULL, flags=SIGCHLD) = %ld\n", rc);
    return (pid_t) rc;
}

/* Let the child go on past its read. */
static void release(void)
{
    if (write(pipefd[1], "", 1) != 1)
        fail("write");
    close(pipefd[0]);
    close(pipefd[1]);
}

#endif
