/* A thread that forks: the thread is a clone with CLONE_THREAD, the child a
 * process of the thread group, reaped by the thread. */
#include <pthread.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void *worker(void *arg)
{
    (void)arg;
    pid_t child = fork();
    if (child == 0)
        _exit(7);
    int status;
    waitpid(child, &status, 0);
    return (void *)(long)(WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

int main(void)
{
    pthread_t thread;
    void *result;
    pthread_create(&thread, NULL, worker, NULL);
    pthread_join(thread, &result);
    return (long)result == 7 ? 0 : 1;
}
