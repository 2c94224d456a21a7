/* probe: make raw syscalls given on the command line and print what they returned.
 *
 *   probe NR [A0 .. A5] [, NR [A0 .. A5]] ...
 *
 * Numbers are decimal, 0x hex or negative; an argument "s:TEXT" passes a
 * pointer to TEXT. One line per call: "NR A0 A1 A2 A3 A4 A5 -> RET ERRNO",
 * all six arguments as the unsigned words passed, so a test can find the
 * call in the jail's log. Used by tests/test_filter_table.py.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static unsigned long word(const char *text)
{
    if (strncmp(text, "s:", 2) == 0)
        return (unsigned long)(text + 2);
    if (text[0] == '-')
        return (unsigned long)strtoll(text, NULL, 0);
    return strtoull(text, NULL, 0);
}

int main(int argc, char **argv)
{
    int i = 1;
    while (i < argc) {
        long nr = (long)word(argv[i++]);
        unsigned long a[6] = {0};
        for (int n = 0; n < 6 && i < argc && strcmp(argv[i], ",") != 0; n++)
            a[n] = word(argv[i++]);
        if (i < argc)
            i++; /* the "," */
        errno = 0;
        long ret = syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
        int err = ret == -1 ? errno : 0;
        /* A process-creating call that should have been denied: the child stops here. */
        if (ret == 0 && (nr == SYS_fork || nr == SYS_clone || nr == SYS_clone3))
            _exit(0);
        printf("%ld %lu %lu %lu %lu %lu %lu -> %ld %d\n", nr, a[0], a[1], a[2], a[3], a[4], a[5], ret, err);
        fflush(stdout);
    }
    return 0;
}
