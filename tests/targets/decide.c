/* Calls getpid N times (argv[1], default 1) from the main thread and, with
 * argv[2] = "threads", from two threads as well; prints every result, so a
 * test can see what a decision made of each call. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static void *worker(void *arg)
{
    long r = syscall(SYS_getpid);
    printf("thread%ld=%ld\n", (long)arg, r);
    return NULL;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 1;
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc > 2 && strcmp(argv[2], "threads") == 0) {
        pthread_t t[2];
        for (long i = 0; i < 2; i++)
            pthread_create(&t[i], NULL, worker, (void *)i);
        for (int i = 0; i < 2; i++)
            pthread_join(t[i], NULL);
    }
    for (int i = 0; i < n; i++)
        printf("getpid=%ld\n", syscall(SYS_getpid));
    return 0;
}
