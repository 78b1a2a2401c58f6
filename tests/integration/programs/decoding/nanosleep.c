/* nanosleep(2): the request prints as a timespec (tv_nsec unsigned, as
 * strace prints it), NULL or unreadable as an address; the remainder only
 * where the call was interrupted, as the kernel wrote it, after
 * "= ? ERESTART_RESTARTBLOCK (Interrupted by signal)": the kernel's own
 * restart code, which the program sees as EINTR once its handler ran.
 * The sleeps that end are of 0 and 1 ns; the one that is interrupted asks
 * for 100 s while an interval timer sends SIGALRM every millisecond, so that
 * a signal that came before the call does not leave it to sleep.
 */
#include "oracle.h"

#include <signal.h>
#include <sys/time.h>
#include <time.h>

static long k_nanosleep(const struct timespec *req, struct timespec *rem)
{
    return syscall(SYS_nanosleep, req, rem, BAD, BAD, BAD, BAD);
}

static void handler(int sig)
{
    (void) sig;
}

int main(void)
{
    struct timespec *const req = tail_alloc(sizeof(*req));
    struct timespec *const rem = tail_alloc(sizeof(*rem));

    *req = (struct timespec){0, 0};
    long rc = k_nanosleep(req, NULL);
    printf("nanosleep({tv_sec=0, tv_nsec=0}, NULL) = %s\n", sprintrc(rc));

    *req = (struct timespec){0, 1};
    rc = k_nanosleep(req, rem);
    printf("nanosleep({tv_sec=0, tv_nsec=1}, %p) = %s\n", rem, sprintrc(rc));

    rc = k_nanosleep(NULL, rem);
    printf("nanosleep(NULL, %p) = %s\n", rem, sprintrc(rc));

    void *const bad = unmapped();
    rc = k_nanosleep(bad, rem);
    printf("nanosleep(%p, %p) = %s\n", bad, rem, sprintrc(rc));

    /* Half of a timespec readable: not printed. */
    const void *const half = (const char *) bad - 8;
    rc = k_nanosleep(half, rem);
    printf("nanosleep(%p, %p) = %s\n", half, rem, sprintrc(rc));

    *req = (struct timespec){0, 1000000000};
    rc = k_nanosleep(req, rem);
    printf("nanosleep({tv_sec=0, tv_nsec=1000000000}, %p) = %s\n", rem, sprintrc(rc));

    *req = (struct timespec){-1, -1};
    rc = k_nanosleep(req, rem);
    printf("nanosleep({tv_sec=-1, tv_nsec=%llu}, %p) = %s\n", (unsigned long long) req->tv_nsec, rem, sprintrc(rc));

    *req = (struct timespec){(time_t) 0xcafef00ddeadbeefLL, (long) 0xbadc0dedfacefeedLL};
    rc = k_nanosleep(req, rem);
    printf("nanosleep({tv_sec=%lld, tv_nsec=%llu}, %p) = %s\n", (long long) req->tv_sec,
           (unsigned long long) req->tv_nsec, rem, sprintrc(rc));

    const struct sigaction act = {.sa_handler = handler};
    const struct itimerval every_ms = {.it_interval.tv_usec = 1000, .it_value.tv_usec = 1000};
    if (sigaction(SIGALRM, &act, NULL) || setitimer(ITIMER_REAL, &every_ms, NULL))
        fail("setitimer");
    *req = (struct timespec){100, 0};
    rc = k_nanosleep(req, rem);
    const int interrupted = rc == -1 && errno == EINTR;
    const struct itimerval off = {{0, 0}, {0, 0}};
    if (setitimer(ITIMER_REAL, &off, NULL) || !interrupted)
        fail("nanosleep was not interrupted");
    printf("nanosleep({tv_sec=100, tv_nsec=0}, {tv_sec=%lld, tv_nsec=%llu}) = ? ERESTART_RESTARTBLOCK "
           "(Interrupted by signal)\n",
           (long long) rem->tv_sec, (unsigned long long) rem->tv_nsec);

    return exited_with_0();
}
