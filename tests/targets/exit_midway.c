/* Threads in a tight loop of syscalls whose results are known in advance
 * (lseek(fd, i, SEEK_SET) returns i) while the main thread ends the process:
 * exit_group kills them wherever they are, also at a seccomp stop, where the
 * kernel then skips the call. A skipped call never returned: a log that shows
 * a result other than its offset for one (the -ENOSYS of a skipped call) is
 * wrong. */
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define THREADS 4

static void *worker(void *arg)
{
    int fd = open("/proc/self/exe", O_RDONLY); /* a regular file: any offset goes */
    for (long i = (long)arg * 1000000;; i++)
        lseek(fd, i, SEEK_SET);
    return NULL;
}

int main(int argc, char **argv)
{
    pthread_t t;
    for (long i = 0; i < THREADS; i++)
        pthread_create(&t, NULL, worker, (void *)i);
    struct timespec pause = {0, (argc > 1 ? atol(argv[1]) : 20) * 1000000L};
    nanosleep(&pause, NULL);
    exit(0);
}
