/* The benchmark's client: N connections to an echo server, K at a time, each
 * sending one line and reading its echo back.
 *
 * Written in C so that on a two-CPU machine the client costs as little as the
 * untraced server does: a Python client would compete with the tracer for the
 * CPUs and for its own start-up, and measure itself as much as the tracer.
 *
 *   echo_client PORT CONNECTIONS [CONCURRENCY]
 *
 * K workers (fork) make CONNECTIONS/K connections each, one after another.
 * Exit status 0 when every echo came back intact, 1 otherwise (with a line on
 * stderr saying which connection failed and how).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int one_connection(int port, long index)
{
    struct sockaddr_in address;
    memset(&address, 0, sizeof address);
    address.sin_family = AF_INET;
    address.sin_port = htons((unsigned short)port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&address, sizeof address) < 0) {
        fprintf(stderr, "echo_client: connection %ld: ", index);
        perror("connect");
        return 1;
    }
    char line[64], echo[64];
    int length = snprintf(line, sizeof line, "hello %ld\n", index);
    if (write(fd, line, (size_t)length) != length) {
        perror("echo_client: write");
        close(fd);
        return 1;
    }
    int got = 0;
    while (got < length) {
        ssize_t n = read(fd, echo + got, sizeof echo - (size_t)got);
        if (n <= 0)
            break;
        got += (int)n;
    }
    close(fd);
    if (got != length || memcmp(line, echo, (size_t)length) != 0) {
        fprintf(stderr, "echo_client: connection %ld: the echo differs (%d of %d bytes)\n", index, got, length);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: echo_client PORT CONNECTIONS [CONCURRENCY]\n");
        return 2;
    }
    int port = atoi(argv[1]);
    long connections = atol(argv[2]);
    long workers = argc > 3 ? atol(argv[3]) : 1;
    if (workers < 1)
        workers = 1;
    if (workers == 1) {
        for (long i = 0; i < connections; i++)
            if (one_connection(port, i))
                return 1;
        return 0;
    }
    for (long w = 0; w < workers; w++) {
        pid_t pid = fork();
        if (pid < 0) {
            perror("echo_client: fork");
            return 1;
        }
        if (pid == 0) {
            for (long i = w; i < connections; i += workers)
                if (one_connection(port, i))
                    _exit(1);
            _exit(0);
        }
    }
    int failed = 0, status;
    while (wait(&status) > 0)
        failed |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
    return failed;
}
