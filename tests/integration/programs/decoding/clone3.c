/* clone3(2): a struct clone_args and its size.  The struct prints only where
 * the size is one the kernel takes (64 bytes or more) and it can be read; its
 * fields print in the struct's order, zero pointers and optional fields left
 * out but for stack and stack_size; exit_signal by name.  What the kernel
 * wrote back (parent_tid) follows the struct: "{...} => {parent_tid=[1234]}".
 * A child made here _exit(0)s at once and is reaped by waitpid (wait4, not
 * traced); its SIGCHLD is held pending (oracle.h).
 */
#include "oracle.h"

#include <linux/sched.h>
#include <signal.h>
#include <sys/wait.h>

/* The sizes of struct clone_args's versions (include/uapi/linux/sched.h). */
#define SIZE_VER0 64 /* up to tls */
#define SIZE_VER2 88 /* up to cgroup */

static long k_clone3(void *args, unsigned long size)
{
    long rc = syscall(SYS_clone3, args, size);
    if (rc == 0)
        _exit(0);
    return rc;
}

static void reap(long pid)
{
    if (pid > 0 && waitpid((pid_t) pid, NULL, 0) != pid)
        fail("waitpid");
}

int main(void)
{
    hold_sigchld();
    struct clone_args *const args = tail_alloc(SIZE_VER2);

    long rc = k_clone3(NULL, 0);
    printf("clone3(NULL, 0) = %s\n", sprintrc(rc));

    void *const bad = unmapped();
    rc = k_clone3(bad, SIZE_VER2);
    printf("clone3(%p, %d) = %s\n", bad, SIZE_VER2, sprintrc(rc));

    /* Too small for any version: not read at all. */
    memset(args, 0, SIZE_VER2);
    rc = k_clone3(args, SIZE_VER0 - 8);
    printf("clone3(%p, %d) = %s\n", args, SIZE_VER0 - 8, sprintrc(rc));

    args->exit_signal = SIGCHLD;
    rc = k_clone3(args, SIZE_VER2);
    printf("clone3({flags=0, exit_signal=SIGCHLD, stack=NULL, stack_size=0}, %d) = %s\n", SIZE_VER2, sprintrc(rc));
    reap(rc);

    /* The first version of the struct ends at tls. */
    struct clone_args *const args0 = tail_alloc(SIZE_VER0);
    memset(args0, 0, SIZE_VER0);
    args0->exit_signal = SIGCHLD;
    rc = k_clone3(args0, SIZE_VER0);
    printf("clone3({flags=0, exit_signal=SIGCHLD, stack=NULL, stack_size=0}, %d) = %s\n", SIZE_VER0, sprintrc(rc));
    reap(rc);

    pid_t *const parent_tid = tail_alloc(sizeof(*parent_tid));
    args->flags = CLONE_PARENT_SETTID;
    args->parent_tid = (uintptr_t) parent_tid;
    rc = k_clone3(args, SIZE_VER2);
    printf("clone3({flags=CLONE_PARENT_SETTID, parent_tid=%p, exit_signal=SIGCHLD, stack=NULL, stack_size=0}"
           " => {parent_tid=[%d]}, %d) = %s\n",
           parent_tid, *parent_tid, SIZE_VER2, sprintrc(rc));
    reap(rc);

    /* An exit signal that is no signal number the kernel takes. */
    memset(args, 0, SIZE_VER2);
    args->exit_signal = 0xdeadc0de;
    rc = k_clone3(args, SIZE_VER2);
    printf("clone3({flags=0, exit_signal=%u, stack=NULL, stack_size=0}, %d) = %s\n", 0xdeadc0de, SIZE_VER2,
           sprintrc(rc));

    /* A flag no strace names (7.x names more of the bits above 32 than 6.1). */
    args->exit_signal = SIGCHLD;
    args->flags = 1ULL << 62;
    rc = k_clone3(args, SIZE_VER2);
    printf("clone3({flags=%#llx /* CLONE_??? */, exit_signal=SIGCHLD, stack=NULL, stack_size=0}, %d) = %s\n",
           1ULL << 62, SIZE_VER2, sprintrc(rc));

    args->flags = CLONE_THREAD;
    rc = k_clone3(args, SIZE_VER2);
    printf("clone3({flags=CLONE_THREAD, exit_signal=SIGCHLD, stack=NULL, stack_size=0}, %d) = %s\n", SIZE_VER2,
           sprintrc(rc));

    return exited_with_0();
}
