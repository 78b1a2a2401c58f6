/* fcntl(2): the descriptor and the command are read from the low half of
 * their registers.  F_GETFD's result prints in hex with its flags
 * ("0x1 (flags FD_CLOEXEC)", but a plain 0), F_GETFL's always in hex with its
 * O_ flags, the access mode first; F_SETFL's and F_SETFD's argument by name,
 * F_DUPFD's as a number.
 */
#include "oracle.h"

#include <fcntl.h>

/* The kernel's O_LARGEFILE, which it sets on every file opened on x86_64;
   glibc's is 0 there (every offset is 64 bits wide). */
#define KERNEL_O_LARGEFILE 0100000

/* The O_ flags of a file's status as strace prints them (its
   open_mode_flags order), for the ones these calls meet. */
static const char *open_modes(long flags)
{
    static char text[256];
    static const char *const modes[] = {"O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE"};
    static const struct {
        long bit;
        const char *name;
    } names[] = {
        {O_APPEND, "O_APPEND"}, {O_NONBLOCK, "O_NONBLOCK"}, {O_DIRECT, "O_DIRECT"},
        {KERNEL_O_LARGEFILE, "O_LARGEFILE"}, {O_NOATIME, "O_NOATIME"},
    };
    snprintf(text, sizeof(text), "%s", modes[flags & O_ACCMODE]);
    flags &= ~O_ACCMODE;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); ++i) {
        if (flags & names[i].bit) {
            strcat(text, "|");
            strcat(text, names[i].name);
            flags &= ~names[i].bit;
        }
    }
    if (flags)
        snprintf(text + strlen(text), sizeof(text) - strlen(text), "|%#lx", flags);
    return text;
}

static long k_fcntl(int fd, unsigned int cmd, unsigned long arg)
{
    return syscall(SYS_fcntl, junk(fd), junk(cmd), arg, BAD, BAD, BAD);
}

int main(void)
{
    const int fd = open("/dev/null", O_RDWR);
    if (fd < 0)
        fail("open");

    long rc = k_fcntl(fd, F_GETFD, BAD);
    printf("fcntl(%d, F_GETFD) = %s\n", fd, sprintrc(rc));

    rc = k_fcntl(fd, F_SETFD, FD_CLOEXEC);
    printf("fcntl(%d, F_SETFD, FD_CLOEXEC) = %s\n", fd, sprintrc(rc));

    rc = k_fcntl(fd, F_GETFD, BAD);
    if (rc != FD_CLOEXEC)
        fail("F_GETFD");
    printf("fcntl(%d, F_GETFD) = 0x1 (flags FD_CLOEXEC)\n", fd);

    rc = k_fcntl(fd, F_SETFD, 0);
    printf("fcntl(%d, F_SETFD, 0) = %s\n", fd, sprintrc(rc));

    rc = k_fcntl(fd, F_GETFL, BAD);
    if (rc < 0)
        fail("F_GETFL");
    printf("fcntl(%d, F_GETFL) = %#lx (flags %s)\n", fd, rc, open_modes(rc));

    rc = k_fcntl(fd, F_SETFL, O_RDWR | O_NONBLOCK);
    printf("fcntl(%d, F_SETFL, O_RDWR|O_NONBLOCK) = %s\n", fd, sprintrc(rc));

    rc = k_fcntl(fd, F_GETFL, BAD);
    if (rc < 0)
        fail("F_GETFL");
    printf("fcntl(%d, F_GETFL) = %#lx (flags %s)\n", fd, rc, open_modes(rc));

    rc = k_fcntl(fd, F_SETFL, O_APPEND);
    printf("fcntl(%d, F_SETFL, O_RDONLY|O_APPEND) = %s\n", fd, sprintrc(rc));

    rc = k_fcntl(fd, F_SETFL, 0);
    printf("fcntl(%d, F_SETFL, O_RDONLY) = %s\n", fd, sprintrc(rc));

    rc = k_fcntl(fd, F_DUPFD, 10);
    printf("fcntl(%d, F_DUPFD, 10) = %s\n", fd, sprintrc(rc));

    rc = k_fcntl(fd, F_DUPFD_CLOEXEC, 20);
    printf("fcntl(%d, F_DUPFD_CLOEXEC, 20) = %s\n", fd, sprintrc(rc));

    rc = k_fcntl(-1, F_GETFD, BAD);
    printf("fcntl(-1, F_GETFD) = %s\n", sprintrc(rc));

    rc = k_fcntl(-1, F_DUPFD, 0);
    printf("fcntl(-1, F_DUPFD, 0) = %s\n", sprintrc(rc));

    return exited_with_0();
}
