/* The test servers' connection: every byte read is written back, until the client closes (or a write fails). */
#ifndef ECHO_UNTIL_EOF_H
#define ECHO_UNTIL_EOF_H

#include <unistd.h>

static void echo_until_eof(int conn)
{
    char buffer[4096];
    ssize_t got;
    while ((got = read(conn, buffer, sizeof buffer)) > 0)
        if (write(conn, buffer, (size_t)got) != got)
            break;
}

#endif
