/* probe OP...: issue raw syscalls given on the command line (tests/differential).
 *
 * Built twice at test time: gcc -no-pie (64-bit; static buffers sit below 4 GiB so `int $0x80`
 * can take string arguments) and gcc -m32 (the i386 ABI).  Each OP is one argument, fields
 * separated by ':'; an OP that fails is not fatal (the next one runs); the probe prints nothing.
 *
 *   s:NR[:ARG...]     syscall(NR, ARG...) in the native ABI (up to 6 arguments)
 *   o:NR[:ARG...]     the same, and remember the result as the fd F
 *   i:NR[:ARG...]     int $0x80 from the 64-bit build: the i386 syscall NR (up to 5 arguments)
 *   sc:CALL[:ARG...]  i386 socketcall(CALL, {ARG...}) (32-bit build; 64-bit: int $0x80 #102)
 *   un:NR:PATH        socket(AF_UNIX, SOCK_STREAM) then syscall NR (connect/bind) on PATH
 *   fork              fork(); the parent waits and exits with the child's status, the child goes on
 *   loginuid:N        write N to /proc/self/loginuid (open, write, close)
 *   x:PATH[:ARG...]   execv(PATH, {PATH, ARG...}); on failure go on
 *   exit:N            exit_group(N)
 * ARG: a number (strtoull/strtoll base 0: 0x.., 0.., -1), N (NULL), F (the last o: result),
 *      @STRING (a pointer to STRING), ^STRING (a pointer to the argv {STRING, NULL}).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static char arena[1 << 16];
static size_t used;
static char *argvs64[32][2];
static uint32_t argvs32[32][2];
static int nargv;
static long lastfd = -1;
static struct sockaddr_un sun_buf;

static char *keep(const char *s)
{
    size_t n = strlen(s) + 1;
    if (used + n > sizeof arena)
        _exit(125);
    char *p = arena + used;
    memcpy(p, s, n);
    used += n;
    return p;
}

static unsigned long arg(const char *t, int compat)
{
    if (!strcmp(t, "N"))
        return 0;
    if (!strcmp(t, "F"))
        return (unsigned long)lastfd;
    if (t[0] == '@')
        return (unsigned long)keep(t + 1);
    if (t[0] == '^') {
        char *s = keep(t + 1);
        if (nargv >= 32)
            _exit(125);
        if (compat) {
            argvs32[nargv][0] = (uint32_t)(uintptr_t)s;
            argvs32[nargv][1] = 0;
            return (unsigned long)(uintptr_t)argvs32[nargv++];
        }
        argvs64[nargv][0] = s;
        argvs64[nargv][1] = NULL;
        return (unsigned long)argvs64[nargv++];
    }
    if (t[0] == '-')
        return (unsigned long)strtoll(t, NULL, 0);
    return strtoull(t, NULL, 0);
}

/* split "a:b:c" in place into fields; returns their number */
static int fields(char *s, char **out, int max)
{
    int n = 0;
    while (n < max) {
        out[n++] = s;
        char *c = strchr(s, ':');
        if (!c)
            break;
        *c = '\0';
        s = c + 1;
    }
    return n;
}

#ifdef __x86_64__
static long int80(long nr, unsigned long a, unsigned long b, unsigned long c, unsigned long d,
                  unsigned long e)
{
    long ret;
    __asm__ volatile("int $0x80"
                     : "=a"(ret)
                     : "a"(nr), "b"(a), "c"(b), "d"(c), "S"(d), "D"(e)
                     : "memory", "r8", "r9", "r10", "r11");
    return ret;
}
#endif

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        char *f[16];
        unsigned long a[6] = {0, 0, 0, 0, 0, 0};
        int n = fields(keep(argv[i]), f, 16);
        const char *op = f[0];
        if (!strcmp(op, "s") || !strcmp(op, "o") || !strcmp(op, "i")) {
            int compat = op[0] == 'i';
#ifndef __x86_64__
            compat = 1;
#endif
            long nr = n > 1 ? strtol(f[1], NULL, 0) : 0;
            for (int k = 2; k < n && k < 8; k++)
                a[k - 2] = arg(f[k], compat);
            long r;
#ifdef __x86_64__
            if (op[0] == 'i')
                r = int80(nr, a[0], a[1], a[2], a[3], a[4]);
            else
#endif
                r = syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
            if (op[0] == 'o')
                lastfd = r;
        } else if (!strcmp(op, "sc")) {
            long call = n > 1 ? strtol(f[1], NULL, 0) : 0;
#ifdef __x86_64__
            static uint32_t args32[6];
            for (int k = 2; k < n && k < 8; k++)
                args32[k - 2] = (uint32_t)arg(f[k], 1);
            lastfd = int80(102, call, (unsigned long)(uintptr_t)args32, 0, 0, 0);
#else
            static unsigned long argsn[6];
            for (int k = 2; k < n && k < 8; k++)
                argsn[k - 2] = arg(f[k], 1);
            lastfd = syscall(102, call, argsn);
#endif
        } else if (!strcmp(op, "un") && n > 2) {
            long nr = strtol(f[1], NULL, 0);
            long fd = syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
            memset(&sun_buf, 0, sizeof sun_buf);
            sun_buf.sun_family = AF_UNIX;
            strncpy(sun_buf.sun_path, f[2], sizeof sun_buf.sun_path - 1);
            syscall(nr, fd, &sun_buf, (socklen_t)sizeof sun_buf);
        } else if (!strcmp(op, "fork")) {
            pid_t pid = fork();
            if (pid > 0) {
                int st = 0;
                waitpid(pid, &st, 0);
                _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 126);
            }
        } else if (!strcmp(op, "loginuid") && n > 1) {
            int fd = open("/proc/self/loginuid", O_WRONLY);
            if (fd >= 0) {
                if (write(fd, f[1], strlen(f[1])) < 0)
                    lastfd = -1;
                close(fd);
            }
        } else if (!strcmp(op, "x") && n > 1) {
            char *xa[16];
            int k = 0;
            for (int j = 1; j < n && k < 15; j++)
                xa[k++] = f[j];
            xa[k] = NULL;
            execv(f[1], xa);
        } else if (!strcmp(op, "exit")) {
            syscall(SYS_exit_group, n > 1 ? atoi(f[1]) : 0);
        }
    }
    return 0;
}
