/* clone(2), made raw (x86_64's order: flags, stack, parent_tid, child_tid,
 * tls) and by glibc's fork().  The flags print by name with the exit signal
 * last ("flags=SIGCHLD" alone, "0" without one); parent_tid prints as the pid
 * the kernel wrote there ("[1234]"), or as its address where it could not;
 * child_tidptr and tls print as addresses.  Unlike an int, the flags are an
 * unsigned long: junk above the low half prints (the kernel ignores it).
 * Each child _exit(0)s at once and is reaped by waitpid (wait4, not traced);
 * its SIGCHLD is held pending (oracle.h).
 */
#include "oracle.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>

static long k_clone(unsigned long flags, void *parent_tid, void *child_tid, unsigned long tls)
{
    long rc = syscall(SYS_clone, flags, NULL, parent_tid, child_tid, tls);
    if (rc == 0)
        _exit(0);
    return rc;
}

static void reap(long pid)
{
    if (pid > 0 && waitpid((pid_t) pid, NULL, __WALL) != pid)
        fail("waitpid");
}

/* Where glibc's fork() asks the kernel to write the child's tid: a field of
   the thread's struct pthread, found by the child, in whose copy it is set. */
static void *fork_child_tidptr(pid_t *child)
{
    int pipefd[2];
    if (pipe(pipefd))
        fail("pipe");
    fflush(stdout);
    *child = fork();
    if (*child < 0)
        fail("fork");
    if (*child == 0) {
        const pid_t me = getpid();
        const char *const self = (const char *) pthread_self();
        for (long offset = 0; offset < 0x800; offset += sizeof(pid_t))
            if (*(const pid_t *) (self + offset) == me) {
                if (write(pipefd[1], &offset, sizeof(offset)) != sizeof(offset))
                    _exit(1);
                break;
            }
        _exit(0);
    }
    close(pipefd[1]);
    long offset;
    if (read(pipefd[0], &offset, sizeof(offset)) != sizeof(offset))
        fail("the child's tid was not found in its struct pthread");
    close(pipefd[0]);
    return (char *) pthread_self() + offset;
}

int main(void)
{
    hold_sigchld();
    long rc = k_clone(SIGCHLD, NULL, NULL, 0);
    printf("clone(child_stack=NULL, flags=SIGCHLD) = %s\n", sprintrc(rc));
    reap(rc);

    rc = k_clone(JUNK | SIGCHLD, NULL, NULL, 0);
    printf("clone(child_stack=NULL, flags=%#lx /* CLONE_??? */|SIGCHLD) = %s\n", JUNK, sprintrc(rc));
    reap(rc);

    /* No exit signal: the parent learns of the child's end only by waiting with __WALL. */
    rc = k_clone(0, NULL, NULL, 0);
    printf("clone(child_stack=NULL, flags=0) = %s\n", sprintrc(rc));
    reap(rc);

    pid_t *const parent_tid = tail_alloc(sizeof(*parent_tid));
    rc = k_clone(CLONE_PARENT_SETTID | SIGCHLD, parent_tid, NULL, 0);
    printf("clone(child_stack=NULL, flags=CLONE_PARENT_SETTID|SIGCHLD, parent_tid=[%d]) = %s\n", *parent_tid,
           sprintrc(rc));
    reap(rc);

    /* The kernel does not fail the call for a parent_tid it cannot write. */
    void *const bad = unmapped();
    rc = k_clone(CLONE_PARENT_SETTID | SIGCHLD, bad, NULL, 0);
    printf("clone(child_stack=NULL, flags=CLONE_PARENT_SETTID|SIGCHLD, parent_tid=%p) = %s\n", bad, sprintrc(rc));
    reap(rc);

    pid_t *const child_tid = tail_alloc(sizeof(*child_tid));
    rc = k_clone(CLONE_CHILD_SETTID | SIGCHLD, NULL, child_tid, 0);
    printf("clone(child_stack=NULL, flags=CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=%p) = %s\n", child_tid,
           sprintrc(rc));
    reap(rc);

    rc = k_clone(CLONE_THREAD, NULL, NULL, 0);
    printf("clone(child_stack=NULL, flags=CLONE_THREAD) = %s\n", sprintrc(rc));

    rc = k_clone(CLONE_FS | CLONE_NEWNS | SIGCHLD, NULL, NULL, 0);
    printf("clone(child_stack=NULL, flags=CLONE_FS|CLONE_NEWNS|SIGCHLD) = %s\n", sprintrc(rc));

    pid_t child;
    void *const tidptr = fork_child_tidptr(&child);
    printf("clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=%p) = %d\n",
           tidptr, child);
    reap(child);

    return exited_with_0();
}
