/* Leaves a child stopped (SIGSTOP) behind and exits with status 3; a second
 * child runs on and continues nothing. Natively the stopped child stays
 * stopped for good; no task in the jail could ever continue it. */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

int main(void)
{
    pid_t stopped = fork();
    if (stopped == 0) {
        raise(SIGSTOP);
        printf("continued\n");
        return 0;
    }
    if (fork() == 0) { /* still running when the parent exits */
        usleep(300000);
        return 0;
    }
    usleep(100000);
    printf("stopped=%d\n", stopped);
    return 3;
}
