/* probe N CODE: N raw getppid() syscalls, then exit with CODE.  Built by tests/kernel/test_events.py
 * (gcc, and gcc -m32 for the i386 ABI). */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1;
    int code = argc > 2 ? atoi(argv[2]) : 0;
    for (long i = 0; i < n; i++)
        syscall(SYS_getppid);
    return code;
}
