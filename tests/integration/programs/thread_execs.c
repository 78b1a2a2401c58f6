/* A process whose second thread calls execve while the leader thread is blocked in accept, or has ended.
 *
 *   thread_execs accept|leader-gone
 *
 * accept:       the leader blocks in accept(2) on a loopback listener; the thread waits until the
 *               leader sleeps in that call (its /proc syscall file says accept, its state S), then execs.
 * leader-gone:  the leader ends its own thread (SYS_exit, as pthread_exit does); the thread waits until
 *               the leader is a zombie, then execs.
 *
 * Both exec this program again as `thread_execs done`, which closes descriptor 99 (EBADF, a marker
 * the new program makes) and exits 0.  execve(2): the exec'ing thread takes the leader's thread id,
 * every other thread is gone, and the process goes on with the new program.  The waits are handshakes
 * on the kernel's own state, not sleeps, so every run tells the same story.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "listen_loopback.h"

static char self[4096];
static const char *mode;

/* The first field of /proc/self/task/LEADER/FILE after the last ')' (stat) or at the start (syscall). */
static int leader_is(const char *file, const char *expected)
{
    char path[64], text[512];
    snprintf(path, sizeof path, "/proc/self/task/%d/%s", getpid(), file);
    FILE *stream = fopen(path, "r");
    if (stream == NULL)
        return 0;
    size_t got = fread(text, 1, sizeof text - 1, stream);
    fclose(stream);
    text[got] = '\0';
    const char *field = text;
    if (strcmp(file, "stat") == 0) {
        const char *close = strrchr(text, ')');
        field = close ? close + 2 : text;
    }
    return strncmp(field, expected, strlen(expected)) == 0;
}

static void *exec_again(void *unused)
{
    (void)unused;
    if (strcmp(mode, "accept") == 0) {
        char number[16];
        snprintf(number, sizeof number, "%d ", SYS_accept);
        while (!(leader_is("syscall", number) && leader_is("stat", "S")))
            sched_yield();
    } else {
        while (!leader_is("stat", "Z"))
            sched_yield();
    }
    char *argv[] = {self, "done", NULL};
    execv(self, argv);
    perror("execv");
    exit(1);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: thread_execs accept|leader-gone\n");
        return 2;
    }
    mode = argv[1];
    if (strcmp(mode, "done") == 0) {
        close(99);
        return 0;
    }
    ssize_t length = readlink("/proc/self/exe", self, sizeof self - 1);
    if (length < 0)
        return 1;
    self[length] = '\0';
    pthread_t thread;
    if (strcmp(mode, "accept") == 0) {
        int listener = listen_loopback("0", 0);
        pthread_create(&thread, NULL, exec_again, NULL);
        accept(listener, NULL, NULL);
        return 1; /* never: the exec ends this thread inside accept */
    }
    pthread_create(&thread, NULL, exec_again, NULL);
    syscall(SYS_exit, 0);
    return 1;
}
