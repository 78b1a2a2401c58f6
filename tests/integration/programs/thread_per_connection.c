/* A C echo server with a thread per connection: accept, pthread_create, accept again.
 *
 *   thread_per_connection PORT CONNECTIONS
 *
 * Serves CONNECTIONS connections, joins its threads and exits 0.  No child
 * process ever exits for a connection, so the deterministic schedule has
 * no exit to order: it must step aside at once, not wait for one.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "echo_until_eof.h"
#include "listen_loopback.h"

static void *echo(void *arg)
{
    int conn = (int)(long)arg;
    echo_until_eof(conn);
    close(conn);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: thread_per_connection PORT CONNECTIONS\n");
        return 2;
    }
    int connections = atoi(argv[2]);
    int listener = listen_loopback(argv[1], 0);
    pthread_t *threads = calloc((size_t)connections, sizeof *threads);
    for (int i = 0; i < connections; i++) {
        int conn = accept(listener, NULL, NULL);
        if (conn < 0) {
            perror("accept");
            return 1;
        }
        pthread_create(&threads[i], NULL, echo, (void *)(long)conn);
    }
    for (int i = 0; i < connections; i++)
        pthread_join(threads[i], NULL);
    close(listener);
    return 0;
}
