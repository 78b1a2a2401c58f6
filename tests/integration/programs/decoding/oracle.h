/* What the decoding programs share: addresses that fault, junk for the upper
 * halves of registers, a call's result as strace prints it, and a SIGCHLD
 * that waits for the program.
 *
 * Each program of this directory makes its calls, then prints on stdout the
 * line strace prints for each, then "+++ exited with 0 +++", its last line
 * (tests/integration/test_calls_print_as_strace_prints_them.py compares them
 * with `harness trace` and with strace itself).  The lines are strace 6.1's,
 * checked on this machine, and 7.x's, from its sources: the programs keep to
 * what both print alike (no flag or operation that only 7.x names).
 */
#ifndef ORACLE_H
#define ORACLE_H

#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Set in the upper 32 bits of an int argument's register: the kernel reads the
   low 32 bits only, and so must a decoder. */
#define JUNK 0xdefaced00000000UL
/* What the registers of the arguments a call does not take hold. */
#define BAD 0xbadc0dedbadc0dedUL

/* Signal SIG's bit in a kernel sigset (an unsigned long on x86_64). */
#define SIGBIT(sig) (1UL << ((sig) - 1))

/* An int argument (or an unsigned int one) with junk above it. */
static inline unsigned long junk(unsigned int value)
{
    return JUNK | value;
}

/* A setup step failed: the program's output would not be the expected one. */
static inline void fail(const char *what)
{
    perror(what);
    exit(1);
}

/* SIZE bytes that end where an unmapped page begins: the object is readable
   whole, one byte more faults. */
static inline void *tail_alloc(size_t size)
{
    const size_t page = (size_t) sysconf(_SC_PAGESIZE);
    const size_t len = (size + page - 1) / page * page;
    char *start = mmap(NULL, len + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (start == MAP_FAILED)
        fail("mmap");
    if (munmap(start + len, page))
        fail("munmap");
    memset(start, 0xff, len);
    return start + len - size;
}

/* An address with no page behind it: reading or writing it gives EFAULT. */
static inline void *unmapped(void)
{
    return (char *) tail_alloc(1) + 1;
}

/* The name strace prints for an errno (src/xlat/errnoent.h), for the ones
   these programs meet. */
static inline const char *errno_name(int number)
{
    switch (number) {
#define NAME(e) case e: return #e
    NAME(EPERM); NAME(ENOENT); NAME(ESRCH); NAME(EINTR); NAME(E2BIG);
    NAME(EBADF); NAME(ECHILD); NAME(EAGAIN); NAME(ENOMEM); NAME(EFAULT);
    NAME(EBUSY); NAME(EINVAL); NAME(EMFILE); NAME(ENOSYS);
    NAME(ENOTSOCK); NAME(EOPNOTSUPP); NAME(ETIMEDOUT);
#undef NAME
    }
    static char unknown[32];
    snprintf(unknown, sizeof(unknown), "errno %d", number);
    return unknown;
}

/* A call's result as strace prints it: "0", "3", or "-1 EFAULT (Bad address)"
   (the errno of a failed call, read right after it). */
static inline const char *sprintrc(long rc)
{
    static char text[4][128]; /* a line may hold a few */
    static unsigned int next;
    char *buf = text[next++ % 4];
    if (rc == -1)
        snprintf(buf, sizeof(text[0]), "-1 %s (%s)", errno_name(errno), strerror(errno));
    else
        snprintf(buf, sizeof(text[0]), "%ld", rc);
    return buf;
}

/* A clock_t of siginfo (si_utime, si_stime) as strace prints it: "0", or the
   ticks followed by a C comment with the seconds, to the precision of a tick
   ("12 ", then "0.12 s" in a comment, where a second has 100 ticks). */
static inline const char *clock_t_text(unsigned long long ticks)
{
    static char text[2][64];
    static unsigned int next;
    char *buf = text[next++ % 2];
    const long hz = sysconf(_SC_CLK_TCK);
    if (ticks == 0 || hz <= 0) {
        snprintf(buf, sizeof(text[0]), "%llu", ticks);
        return buf;
    }
    int digits = 0;
    unsigned long long scale = 1;
    for (long rest = hz - 1; rest > 0 && digits < 9; rest /= 10, ++digits)
        scale *= 10;
    const unsigned long long fraction = ((ticks % hz) * scale * 2 + hz) / (2 * hz);
    snprintf(buf, sizeof(text[0]), "%llu /* %llu.%0*llu s */", ticks, ticks / hz, digits, fraction);
    return buf;
}

/* Keep each child's SIGCHLD pending rather than delivered.  A tracer sees a
   SIGCHLD even where the program ignores it, and then it interrupts whatever
   call the program is in when it comes (a wait's ERESTARTSYS and its
   restart, a fork's ERESTARTNOINTR); a child that was continued sends its
   own when it next runs, at a time no program decides.  Blocked, it never
   interrupts a call. */
static inline void hold_sigchld(void)
{
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    if (sigprocmask(SIG_BLOCK, &mask, NULL))
        fail("sigprocmask");
}

/* The last line strace prints for the process: its exit, after everything the
   program printed. */
static inline int exited_with_0(void)
{
    puts("+++ exited with 0 +++");
    fflush(stdout);
    return 0;
}

#endif /* ORACLE_H */
