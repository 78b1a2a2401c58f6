/* A thread that forks: the thread is a clone with CLONE_THREAD, the child a
 * process of the thread group, reaped by the thread.
 *
 * SIGCHLD is meant for the whole thread group, and the kernel hands it to any
 * thread that does not block it: the main thread blocks it, so that the
 * worker always receives it; the child exits only once the worker waits for
 * it.  So every run tells the same story. */
#include "handshake.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void *worker(void *arg)
{
    (void)arg;
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    pthread_sigmask(SIG_UNBLOCK, &chld, NULL);
    pid_t worker_tid = gettid();
    pid_t child = fork();
    if (child == 0) {
        wait_until_sleeping(worker_tid); /* exit while the worker waits for us */
        _exit(7);
    }
    int status;
    waitpid(child, &status, 0);
    return (void *)(long)(WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

int main(void)
{
    pthread_t thread;
    void *result;
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    pthread_sigmask(SIG_BLOCK, &chld, NULL);
    pthread_create(&thread, NULL, worker, NULL);
    pthread_join(thread, &result);
    return (long)result == 7 ? 0 : 1;
}
