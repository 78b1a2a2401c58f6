/* rt_sigaction(2), made raw with the kernel's struct sigaction (handler,
 * flags, restorer, mask) and the kernel's sigset size, 8.  The signal is an
 * int read from the low half of its register.  A handler prints by name
 * (SIG_DFL, SIG_IGN) or address, sa_restorer only with SA_RESTORER, a mask as
 * its signals without "SIG" ("[HUP INT]"), or, where it holds two thirds of
 * the 64 or more (42), as "~[...]" with the signals it lacks: the kernel never
 * keeps KILL and STOP in a mask, so a full mask comes back as "~[KILL STOP]".
 * An action the kernel did not read or write prints as its address.
 *
 * strace reads an action as a struct of 88 bytes, with 64 bytes of mask, not
 * 8 (struct new_sigaction, src/signal.c, in 6.1 as in 7.x): an action of the
 * kernel's 32 bytes that ends a page prints as its address, though the kernel
 * reads it.  The harness reads what the kernel reads and decodes it; that
 * case is left out here, and the actions have room after them.
 */
#include "oracle.h"

#include <signal.h>

struct k_sigaction {
    unsigned long handler;
    unsigned long flags;
    unsigned long restorer;
    unsigned long mask;
};

#define K_SA_RESTORER 0x04000000UL
#define RESTORER 0xdeadbeefUL
/* What strace reads of an action. */
#define STRACE_SIGACTION_SIZE 88

static long k_rt_sigaction(int sig, struct k_sigaction *act, struct k_sigaction *old, unsigned long size)
{
    return syscall(SYS_rt_sigaction, junk(sig), act, old, size, BAD, BAD);
}

static void handler(int sig)
{
    (void) sig;
}

int main(void)
{
    struct k_sigaction *const act = tail_alloc(STRACE_SIGACTION_SIZE);
    struct k_sigaction *const old = tail_alloc(STRACE_SIGACTION_SIZE);

    long rc = k_rt_sigaction(SIGUSR2, NULL, old, 8);
    if (rc || old->handler != (unsigned long) SIG_DFL || old->mask || old->flags)
        fail("SIGUSR2 is not at its default");
    printf("rt_sigaction(SIGUSR2, NULL, {sa_handler=SIG_DFL, sa_mask=[], sa_flags=0}, 8) = %s\n", sprintrc(rc));

    *act = (struct k_sigaction){(unsigned long) SIG_IGN, K_SA_RESTORER | SA_RESTART, RESTORER,
                                SIGBIT(SIGHUP) | SIGBIT(SIGINT)};
    rc = k_rt_sigaction(SIGUSR2, act, old, 8);
    printf("rt_sigaction(SIGUSR2, {sa_handler=SIG_IGN, sa_mask=[HUP INT], sa_flags=SA_RESTORER|SA_RESTART, "
           "sa_restorer=%#lx}, {sa_handler=SIG_DFL, sa_mask=[], sa_flags=0}, 8) = %s\n",
           RESTORER, sprintrc(rc));

    *act = (struct k_sigaction){(unsigned long) handler, K_SA_RESTORER | SA_SIGINFO | SA_NODEFER, RESTORER,
                                SIGBIT(SIGQUIT) | SIGBIT(SIGTERM) | SIGBIT(SIGRTMIN) | SIGBIT(64)};
    rc = k_rt_sigaction(SIGUSR2, act, old, 8);
    printf("rt_sigaction(SIGUSR2, {sa_handler=%p, sa_mask=[QUIT TERM RT_2 RT_32], "
           "sa_flags=SA_RESTORER|SA_NODEFER|SA_SIGINFO, sa_restorer=%#lx}, "
           "{sa_handler=SIG_IGN, sa_mask=[HUP INT], sa_flags=SA_RESTORER|SA_RESTART, sa_restorer=%#lx}, 8) = %s\n",
           (void *) handler, RESTORER, RESTORER, sprintrc(rc));

    /* A full mask, and one without HUP, RTMIN (32) and RT_1 (33). */
    *act = (struct k_sigaction){(unsigned long) SIG_DFL, 0, 0, ~0UL};
    rc = k_rt_sigaction(SIGUSR2, act, NULL, 8);
    printf("rt_sigaction(SIGUSR2, {sa_handler=SIG_DFL, sa_mask=~[], sa_flags=0}, NULL, 8) = %s\n", sprintrc(rc));

    act->mask = ~(SIGBIT(SIGHUP) | SIGBIT(32) | SIGBIT(33));
    rc = k_rt_sigaction(SIGUSR2, act, old, 8);
    printf("rt_sigaction(SIGUSR2, {sa_handler=SIG_DFL, sa_mask=~[HUP RTMIN RT_1], sa_flags=0}, "
           "{sa_handler=SIG_DFL, sa_mask=~[KILL STOP], sa_flags=0}, 8) = %s\n",
           sprintrc(rc));

    /* Two thirds (42 of the 64) print as the complement, 41 as they are. */
    act->mask = (1UL << 42) - 1;
    rc = k_rt_sigaction(SIGUSR2, act, NULL, 8);
    printf("rt_sigaction(SIGUSR2, {sa_handler=SIG_DFL, sa_mask=~[RT_11 RT_12 RT_13 RT_14 RT_15 RT_16 RT_17 RT_18 "
           "RT_19 RT_20 RT_21 RT_22 RT_23 RT_24 RT_25 RT_26 RT_27 RT_28 RT_29 RT_30 RT_31 RT_32], sa_flags=0}, "
           "NULL, 8) = %s\n",
           sprintrc(rc));
    act->mask = (1UL << 41) - 1;
    rc = k_rt_sigaction(SIGUSR2, act, NULL, 8);
    printf("rt_sigaction(SIGUSR2, {sa_handler=SIG_DFL, sa_mask=[HUP INT QUIT ILL TRAP ABRT BUS FPE KILL USR1 SEGV "
           "USR2 PIPE ALRM TERM STKFLT CHLD CONT STOP TSTP TTIN TTOU URG XCPU XFSZ VTALRM PROF WINCH IO PWR SYS "
           "RTMIN RT_1 RT_2 RT_3 RT_4 RT_5 RT_6 RT_7 RT_8 RT_9], sa_flags=0}, NULL, 8) = %s\n",
           sprintrc(rc));

    act->mask = 0;
    rc = k_rt_sigaction(SIGKILL, act, NULL, 8);
    printf("rt_sigaction(SIGKILL, {sa_handler=SIG_DFL, sa_mask=[], sa_flags=0}, NULL, 8) = %s\n", sprintrc(rc));

    rc = k_rt_sigaction(65, NULL, old, 8);
    printf("rt_sigaction(65, NULL, %p, 8) = %s\n", old, sprintrc(rc));

    /* A sigset of another size than the kernel's: refused; strace prints the
       action it reads at entry, not the old one it would read at exit. */
    rc = k_rt_sigaction(SIGUSR2, act, old, 7);
    printf("rt_sigaction(SIGUSR2, {sa_handler=SIG_DFL, sa_mask=[], sa_flags=0}, %p, 7) = %s\n", old, sprintrc(rc));

    void *const bad = unmapped();
    rc = k_rt_sigaction(SIGUSR2, bad, NULL, 8);
    printf("rt_sigaction(SIGUSR2, %p, NULL, 8) = %s\n", bad, sprintrc(rc));

    rc = k_rt_sigaction(SIGUSR2, NULL, bad, 8);
    printf("rt_sigaction(SIGUSR2, NULL, %p, 8) = %s\n", bad, sprintrc(rc));


    return exited_with_0();
}
