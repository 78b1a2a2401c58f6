/* A program that only makes traced calls: close(-1) N times, each failing
 * with EBADF.  Traced with --syscalls close, each call is two stops (the
 * prefilter's entry and the exit) and one event, and nothing else: the
 * tracer's cost per stop, with no server or client around it.
 *
 *   close_loop N
 */
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 0;
    for (long i = 0; i < n; i++)
        close(-1);
    return 0;
}
