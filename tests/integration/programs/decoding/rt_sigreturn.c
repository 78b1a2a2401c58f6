/* rt_sigreturn(2), as a handler's return makes it: strace prints the signal
 * mask the call restores, the one the handler interrupted ("{mask=[...]}",
 * "~[...]" where it holds two thirds of the 64 signals or more), and the
 * value it returns, the interrupted call's own result (tgkill's 0, or the
 * EINTR of a ppoll that a pending signal interrupts at once).  The signal's
 * own line comes first: SIGUSR1, sent by tgkill (SI_TKILL).
 */
#include "oracle.h"

#include <signal.h>

static void handler(int sig)
{
    (void) sig;
}

/* Block exactly MASK (the kernel leaves KILL and STOP out), raw: glibc's
   sigprocmask keeps its own two real-time signals out of any mask. */
static void set_mask(unsigned long mask)
{
    if (syscall(SYS_rt_sigprocmask, SIG_SETMASK, &mask, NULL, 8))
        fail("rt_sigprocmask");
}

static void signal_self(const char *mask)
{
    const pid_t pid = getpid();
    if (syscall(SYS_tgkill, pid, pid, SIGUSR1))
        fail("tgkill");
    printf("--- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_TKILL, si_pid=%d, si_uid=%u} ---\n", pid, (unsigned) getuid());
    printf("rt_sigreturn({mask=%s}) = 0\n", mask);
}

int main(void)
{
    const struct sigaction act = {.sa_handler = handler};
    if (sigaction(SIGUSR1, &act, NULL))
        fail("sigaction");

    set_mask(0);
    signal_self("[]");

    set_mask(SIGBIT(SIGINT) | SIGBIT(SIGUSR2) | SIGBIT(SIGCHLD) | SIGBIT(35) | SIGBIT(36) | SIGBIT(58) | SIGBIT(64));
    signal_self("[INT USR2 CHLD RT_3 RT_4 RT_26 RT_32]");

    set_mask(~SIGBIT(SIGUSR1));
    signal_self("~[KILL USR1 STOP]");

    /* Pending while blocked; ppoll's mask lets it in at once, and the
       handler returns into ppoll's EINTR, restoring the mask ppoll replaced. */
    set_mask(SIGBIT(SIGUSR1));
    const pid_t pid = getpid();
    if (syscall(SYS_tgkill, pid, pid, SIGUSR1))
        fail("tgkill");
    const unsigned long none = 0;
    if (syscall(SYS_ppoll, NULL, 0, NULL, &none, 8) != -1 || errno != EINTR)
        fail("ppoll");
    printf("--- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_TKILL, si_pid=%d, si_uid=%u} ---\n", pid, (unsigned) getuid());
    printf("rt_sigreturn({mask=[USR1]}) = -1 EINTR (%s)\n", strerror(EINTR));

    set_mask(0);
    return exited_with_0();
}
