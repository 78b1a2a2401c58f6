/* Sleep-free handshakes between the processes of a test program.
 *
 * A test that needs "the child exits while the parent blocks in accept" must
 * not hope for it with a sleep: the child polls the parent's state in
 * /proc/PID/stat until it is 'S' (interruptible sleep), which a process that
 * does nothing but enter accept reaches only inside accept.  The polling
 * uses pread on one descriptor, so the polling loop adds no traced call
 * (no close, no wait) to the child's trace, however long it lasts.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Poll /proc/PID/FILE with pread on one descriptor until `ready` says yes of its text (or it is gone). */
static __attribute__((unused)) void wait_until_proc(pid_t pid, const char *file, int (*ready)(const char *, long),
                                                    long wanted)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
    int fd = open(path, O_RDONLY);
    for (;;) {
        ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
        if (n <= 0)
            break;
        buf[n] = '\0';
        if (ready(buf, wanted))
            break;
        sched_yield();
    }
    close(fd); /* one close, whatever the number of polls */
}

/* /proc/PID/stat: the state after the command's closing parenthesis is 'S', an interruptible sleep. */
static __attribute__((unused)) int is_sleeping(const char *stat, long unused)
{
    (void)unused;
    const char *end = strrchr(stat, ')');
    return end && end[2] == 'S';
}

static __attribute__((unused)) void wait_until_sleeping(pid_t pid)
{
    wait_until_proc(pid, "stat", is_sleeping, 0);
}

/* /proc/PID/syscall (proc(5)): the number of the call the process sleeps in comes first. */
static __attribute__((unused)) int is_in_call(const char *syscall, long number)
{
    char want[32];
    snprintf(want, sizeof want, "%ld ", number);
    return strncmp(syscall, want, strlen(want)) == 0;
}

/* Wait until a process sleeps in the call numbered `number`. */
static __attribute__((unused)) void wait_until_in_call(pid_t pid, long number)
{
    wait_until_proc(pid, "syscall", is_in_call, number);
}

/* Wait until a process has been reaped: its /proc entry is gone. */
static __attribute__((unused)) void wait_until_reaped(pid_t pid)
{
    char path[64];
    struct stat st;
    snprintf(path, sizeof path, "/proc/%d", (int)pid);
    while (stat(path, &st) == 0)
        sched_yield();
}
