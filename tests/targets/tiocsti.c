/* Pushes "id\n" into the input of its terminal (stdin) with TIOCSTI, as a
 * program escaping a sandbox does: the user's shell would read and run it
 * once the jail is gone. Prints "tiocsti=<errno name or ok>". */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

int main(void)
{
    const char *line = "id\n";
    int failed = 0;
    for (const char *c = line; *c; c++)
        if (ioctl(0, TIOCSTI, c) != 0)
            failed = errno;
    printf("tiocsti=%s\n", failed ? strerrorname_np(failed) : "ok");
    return 0;
}
