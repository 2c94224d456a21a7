/* Calls the legacy vsyscall page three times over (gettimeofday, time,
 * getcpu), each round followed by a real getppid. The kernel emulates
 * those calls, seccomp included, but makes no syscall-exit stop for them.
 * Prints the results of each round. */
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

typedef long (*gettimeofday_fn)(struct timeval *, void *);
typedef long (*time_fn)(long *);
typedef long (*getcpu_fn)(unsigned *, unsigned *, void *);

int main(void)
{
    struct timeval tv;
    long t;
    unsigned cpu, node;
    for (int i = 0; i < 3; i++) {
        long a = ((gettimeofday_fn)0xffffffffff600000UL)(&tv, NULL);
        long b = ((time_fn)0xffffffffff600400UL)(&t);
        long c = ((getcpu_fn)0xffffffffff600800UL)(&cpu, &node, NULL);
        long d = syscall(SYS_getppid);
        printf("gettimeofday=%ld time_ok=%d getcpu=%ld getppid_ok=%d\n", a, b == t, c, d == getppid());
    }
    return 0;
}
