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

static __attribute__((unused)) void wait_until_sleeping(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY);
    for (;;) {
        ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
        if (n <= 0)
            break;
        buf[n] = '\0';
        char *end = strrchr(buf, ')');
        if (end && end[2] == 'S')
            break;
        sched_yield();
    }
    close(fd); /* one close, whatever the number of polls */
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
