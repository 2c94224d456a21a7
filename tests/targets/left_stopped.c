/* Leaves a child stopped (SIGSTOP) behind and exits with status 3; a second
 * child runs on and continues nothing. Natively the stopped child stays
 * stopped for good; no task in the jail could ever continue it.
 * With the argument "thread", the stopped child's main thread has exited
 * first (pthread_exit): a zombie leader beside a stopped thread.
 * Usage: left_stopped [thread] */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void *stop_later(void *unused)
{
    (void)unused;
    usleep(20000); /* the main thread is gone by now */
    raise(SIGSTOP);
    printf("continued\n");
    return NULL;
}

int main(int argc, char **argv)
{
    pid_t stopped = fork();
    if (stopped == 0) {
        if (argc > 1 && strcmp(argv[1], "thread") == 0) {
            pthread_t thread;
            pthread_create(&thread, NULL, stop_later, NULL);
            pthread_exit(NULL);
        }
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
