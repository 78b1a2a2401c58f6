/* Built with -m32 by test_a_32_bit_program_is_refused_by_name.py.  Its calls are i386 calls, whose
 * numbers mean other calls on x86_64: read is 3 (x86_64's close), getegid 50 (x86_64's listen).
 * The first one is made by the dynamic loader, before main. */
#include <unistd.h>

int main(void) {
    char byte;
    return (int)read(0, &byte, 0) + (getegid() == (gid_t)-1);
}
