/* A 64-bit program that makes one i386 call (int $0x80: getpid, i386 number 20) and one x32 call (x86_64's
 * getpid with the x32 bit, 0x40000000 | 39; the kernel fails it with ENOSYS where x32 is off), then closes a
 * descriptor as any program does.  strace traces it; so must the harness: a stray call is no 32-bit program.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <unistd.h>

int main(void)
{
    long i386_result, x32_result;
    __asm__ volatile("int $0x80" : "=a"(i386_result) : "a"(20L) : "memory");
    __asm__ volatile("syscall" : "=a"(x32_result) : "a"(0x40000000L | 39L) : "rcx", "r11", "memory");
    int fd = open("/dev/null", O_RDONLY);
    close(fd);
    return i386_result > 0 ? 0 : 1;
}
